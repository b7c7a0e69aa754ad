"""A settlement run in a process of its own that SIGKILLs itself at the n-th ``step``.

``run_killed(...)`` forks the test process: the child, with every module already
imported, builds its own app (its own engine and connections — it never touches the
parent's), runs the settlement and kills itself with SIGKILL at the n-th ``step``;
the parent waits and returns the child's exit code.  A fork instead of a fresh
interpreter keeps the test complete (a separate process, killed the hard way) and
cheap (no 2-second import per kill).  ``python -m tests.settlement.crash_runner …``
does the same from the command line, for a person debugging a run.

The kill comes from the service's ``on_step`` observer — the same hook the CLI's
progress bar uses — so production code has no test branch.  Without ``kill_at``
the run goes to the end and writes its status to ``status_file``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import warnings
from collections import Counter
from datetime import datetime
from pathlib import Path

from app import create_app
from app.kit.registry import provided
from app.payments.gateway import PaymentGateway
from app.settlement.planning import Period
from app.settlement.service import Settler


def settle_until_killed(
    database_url: str,
    api_base: str,
    period: str,
    now: datetime,
    instance: str,
    *,
    workers: int = 1,
    kill_at: str | None = None,
    nth: int = 1,
    status_file: str | None = None,
) -> None:
    app = create_app(
        {
            "TESTING": True,
            "CAMEO_ENV": "test",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "crash-test",
            "INSTANCE_PATH": instance,
            "CLOCK": lambda: now,
            "STRIPE_SECRET_KEY": "sk_test_crash",
            "STRIPE_API_BASE": api_base,
            "STRIPE_MAX_NETWORK_RETRIES": 2,
            "SETTLEMENT_WORKERS": workers,
            "SETTLEMENT_STRIPE_WRITES_PER_SECOND": 0,
        }
    )
    seen: Counter[str] = Counter()

    def on_step(step: str, _subject) -> None:
        seen[step] += 1
        if step == kill_at and seen[step] == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    with app.app_context():
        report = provided(Settler, app).settle(
            Period.parse(period), now=now, actor="crash-runner", gateway=provided(PaymentGateway, app), on_step=on_step
        )
    status = report.run.status if report.run else report.note
    if status_file:
        Path(status_file).write_text(status)
    else:
        print(status)


def run_killed(
    database_url: str,
    api_base: str,
    period: str,
    now: datetime,
    instance: str,
    *,
    workers: int = 1,
    kill_at: str | None = None,
    nth: int = 1,
    status_file: str | None = None,
) -> int:
    """Run in a forked child; its exit code (``-SIGKILL`` when it killed itself)."""
    child = multiprocessing.get_context("fork").Process(
        target=settle_until_killed,
        args=(database_url, api_base, period, now, instance),
        kwargs=dict(workers=workers, kill_at=kill_at, nth=nth, status_file=status_file),
    )
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a threaded process (the emulator serves from a
        # thread) may deadlock the child; the child only opens its own connections.
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        child.start()
    child.join(120)
    if child.exitcode is None:
        child.kill()
        child.join()
        raise TimeoutError("the settlement child did not finish in 120 s")
    return child.exitcode


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--database-url", "--api-base", "--period", "--now", "--instance"):
        parser.add_argument(name, required=True)
    parser.add_argument("--kill-at")
    parser.add_argument("--nth", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    settle_until_killed(
        args.database_url,
        args.api_base,
        args.period,
        datetime.fromisoformat(args.now),
        args.instance,
        workers=args.workers,
        kill_at=args.kill_at,
        nth=args.nth,
    )


if __name__ == "__main__":
    main()
