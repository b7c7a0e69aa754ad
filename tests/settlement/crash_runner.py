"""A settlement run in a process of its own that SIGKILLs itself at the n-th ``step``.

``python -m tests.settlement.crash_runner --database-url … --api-base … --period 2026-10
--now 2026-11-01T06:00:00+00:00 --kill-at item.transferred --nth 2 --instance DIR``

The kill comes from the service's ``on_step`` observer — the same hook the CLI's
progress bar uses — so production code has no test branch.  Without ``--kill-at``
the run goes to the end and prints its status.
"""

from __future__ import annotations

import argparse
import os
import signal
from collections import Counter
from datetime import datetime

from app import create_app
from app.kit.registry import provided
from app.payments.gateway import PaymentGateway
from app.settlement.planning import Period
from app.settlement.service import Settler


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--database-url", "--api-base", "--period", "--now", "--instance"):
        parser.add_argument(name, required=True)
    parser.add_argument("--kill-at")
    parser.add_argument("--nth", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now)
    app = create_app(
        {
            "TESTING": True,
            "CAMEO_ENV": "test",
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": "crash-test",
            "INSTANCE_PATH": args.instance,
            "CLOCK": lambda: now,
            "STRIPE_SECRET_KEY": "sk_test_crash",
            "STRIPE_API_BASE": args.api_base,
            "STRIPE_MAX_NETWORK_RETRIES": 2,
            "SETTLEMENT_WORKERS": args.workers,
            "SETTLEMENT_STRIPE_WRITES_PER_SECOND": 0,
        }
    )
    seen: Counter[str] = Counter()

    def on_step(step: str, _subject) -> None:
        seen[step] += 1
        if step == args.kill_at and seen[step] == args.nth:
            os.kill(os.getpid(), signal.SIGKILL)

    with app.app_context():
        report = provided(Settler, app).settle(
            Period.parse(args.period),
            now=now,
            actor="crash-runner",
            gateway=provided(PaymentGateway, app),
            on_step=on_step,
        )
    print(report.run.status if report.run else report.note)


if __name__ == "__main__":
    main()
