"""Usage API throughput under gunicorn, as ratios to the same server's /healthz rate (issue #5).

    python bench/usage_bench.py [--seconds 5] [--clients 4] [--workers 2] [--worker-class gthread --threads 2]

The app runs under gunicorn (2 workers; ``gthread`` workers by default, because they
keep connections alive and overlap one request's database waits with another's
Python) on a scratch PostgreSQL database with the demo marketplace; a bounded load
loop of keep-alive HTTP clients on 127.0.0.1 measures

(a) /healthz requests/s (the server's baseline: routing + one SELECT 1),
(b) accepted usage events/s sent one per request,
(c) accepted usage events/s sent in batches of 1,000,

and prints (b) and (c) as ratios to (a), plus the ledger entries/s that resulted
(counted in the database), and the CPU each request cost the app server, PostgreSQL
and the load generator (from /proc).  Every event is priced, posted and signed: each
accepted event is one usage row with its receipt; the uses of one licence in one
request are one ledger entry (a single-event request: one entry per event).

The client shares the machine's cores with the server, so it stays cheap: request
bodies are filled into a prepared template, and an answer is checked by its status
(200: nothing rejected) and its ``"accepted"`` count, not parsed whole.  /healthz is
measured with the same client, so the ratios compare like with like.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.db import Database
from app.kit.registry import provided

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.common import scratch_database  # noqa: E402

LICENCE = 3  # Lumen Studios' licence on cameo 2 (two co-owners, no usage cap), web/tv in GB/IE
ACCEPTED = re.compile(rb'"accepted":\s*(\d+)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, instance: Path, now: datetime) -> str:
    """Seed the demo marketplace (licences start an hour ago) and return eli's API token."""
    from app import create_app
    from app.people import accounts
    from app.people.actors import actor_for
    from app.people.models import User
    from app.seed import seed_demo

    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench-" + "x" * 32,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "CLOCK": lambda: now - timedelta(hours=1),
        }
    )
    with app.app_context():
        seed_demo(app, now=now - timedelta(hours=1))
        with provided(Database).unit_of_work() as uow:
            user = uow.session.exec(select(User).where(User.email == "eli@lumen.example")).one()
            token = accounts.issue_token(uow, actor_for(uow, user), now, name="bench")[1]
            uow.commit()
    provided(Database, app).dispose()
    return token


def start_server(
    url: str, instance: Path, port: int, workers: int, worker_class: str, threads: int
) -> subprocess.Popen:
    # the rate limit stays on (it is part of every API request's cost) but cannot trip;
    # a day-long window, because a short one makes the in-memory store spawn an expiry
    # thread every window
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CAMEO_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "bench-" + "x" * 32,
        "RATELIMIT_API": "1000000000 per day",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-k",
            worker_class,
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise SystemExit("gunicorn did not come up")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server_pgid: int) -> dict[str, float]:
    """CPU time used so far by the app server (its process group), PostgreSQL (every
    ``postgres`` process) and this load generator, from /proc."""
    totals = {"app": 0.0, "postgres": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        used = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
        if int(fields[2]) == server_pgid:
            totals["app"] += used
        elif comm == "postgres":
            totals["postgres"] += used
    times = os.times()
    totals["client"] = times.user + times.system
    return totals


def load(port: int, clients: int, seconds: float, make_request) -> tuple[int, int, float]:
    """Run ``clients`` keep-alive loops for ``seconds``; (requests, events accepted, elapsed)."""
    stop = time.monotonic() + seconds
    totals = [[0, 0] for _ in range(clients)]
    errors: list[str] = []

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        i = 0
        while time.monotonic() < stop and not errors:
            method, path, body, headers = make_request(n, i)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                errors.append(f"{response.status} {data[:300]!r}")
                return
            totals[n][0] += 1
            if method == "POST":
                totals[n][1] += int(ACCEPTED.search(data).group(1))  # the only "accepted" key
            i += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"request failed: {errors[0]}")
    return sum(t[0] for t in totals), sum(t[1] for t in totals), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load phase")
    parser.add_argument("--clients", type=int, default=4, help="concurrent keep-alive HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    args = parser.parse_args()

    now = datetime.now(UTC)
    occurred = (now - timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    with scratch_database("postgresql") as url, tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        token = prepare(url, instance, now)
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        port = free_port()
        server = start_server(url, instance, port, args.workers, args.worker_class, args.threads)
        try:
            from ledger.db import make_engine

            engine = make_engine(url)

            def entries() -> int:
                with engine.connect() as conn:
                    return conn.execute(text("SELECT count(*) FROM ledger_entry WHERE kind = 'usage.royalty'")).scalar()

            template = json.dumps(
                {
                    "licence_id": LICENCE,
                    "event_id": "EVENT_ID",
                    "kind": "render",
                    "quantity": 1,
                    "occurred_at": occurred,
                    "territory": "GB",
                    "media": "web",
                    "content_sha256": "ab" * 32,
                }
            )
            head, tail = template.split('"EVENT_ID"')

            def event(tag: str) -> str:
                return f'{head}"{tag}"{tail}'

            def healthz(_n, _i):
                return "GET", "/healthz", None, {}

            def single(n, i):
                return "POST", "/api/v1/usage", event(f"s-{n}-{i}"), auth

            def batch(n, i):
                body = '{"events": [' + ", ".join(event(f"b-{n}-{i}-{j}") for j in range(1000)) + "]}"
                return "POST", "/api/v1/usage", body, auth

            load(port, args.clients, 1.0, healthz)  # warm up every worker
            load(port, args.clients, 1.0, lambda n, i: single(n + 100, i))
            cpu: dict[str, dict[str, float]] = {}

            def phase(name: str, seconds: float, make_request) -> tuple[int, int, float]:
                start = cpu_seconds(server.pid)
                result = load(port, args.clients, seconds, make_request)
                cpu[name] = {k: v - start[k] for k, v in cpu_seconds(server.pid).items()}
                return result

            h_req, _, h_s = phase("healthz", args.seconds, healthz)
            before = entries()
            s_req, s_acc, s_s = phase("single", args.seconds, single)
            mid = entries()
            b_req, b_acc, b_s = phase("batch", max(args.seconds, 8.0), batch)
            after = entries()
        finally:
            stop_server(server)
            engine.dispose()

    health = h_req / h_s
    single_rate, batch_rate = s_acc / s_s, b_acc / b_s
    kind = f"{args.worker_class} workers" + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
    print(f"usage API under gunicorn ({args.workers} {kind}, {args.clients} clients, PostgreSQL, 127.0.0.1)")
    print(f"  /healthz                         {health:>10,.0f} req/s")
    print(
        f"  single-event POST /usage         {single_rate:>10,.0f} events/s"
        f"   ratio to /healthz {single_rate / health:5.2f}"
        f"   ledger entries/s {(mid - before) / s_s:>8,.0f}"
    )
    print(
        f"  1,000-event batches POST /usage  {batch_rate:>10,.0f} events/s"
        f"   ratio to /healthz {batch_rate / health:5.2f}"
        f"   ledger entries/s {(after - mid) / b_s:>8,.0f}   ({b_req} batches)"
    )
    print("  CPU per request, ms (app server / PostgreSQL / load generator):")
    for name, requests in (("healthz", h_req), ("single", s_req), ("batch", b_req)):
        used = cpu[name]
        print(
            f"    {name:<8} " + " / ".join(f"{used[k] * 1000 / requests:8.2f}" for k in ("app", "postgres", "client"))
        )


if __name__ == "__main__":
    main()
