"""Intake throughput of the REST API: POST /api/v1/tickets at a fixed concurrency.

Builds a fresh database (migrate + demo), issues an API token, starts gunicorn on 127.0.0.1,
then sends ``--requests`` creates at each concurrency over keep-alive connections and prints
one markdown table row per concurrency: creates/s and p50/p99 latency in milliseconds.

    .venv/bin/python bench/api_intake.py --db postgres
    .venv/bin/python bench/api_intake.py --db sqlite --concurrency 1 8 --requests 2000
"""

import argparse
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BIN, database_env, django_snippet, fresh_database, machine, percentile  # noqa: E402

# Categories of the demo catalogue without required form fields.
REQUESTS = [
    ("workstations", "broken", "Näyttö vilkkuu", "Näyttö vilkkuu aina telakkaan kytkettynä."),
    ("access", "new-rights", "Oikeudet verkkolevylle P:", "Tarvitsen lukuoikeuden projektia varten."),
    ("workstations", "broken", "Printer jams", "The second-floor printer jams on every page."),
    ("access", "new-rights", "Teams group access", "Please add me to the finance Teams group."),
]
ISSUE_TOKEN = """
from vuoro.accounts.models import User
from vuoro.accounts.services import api_token_issue
print(api_token_issue(user=User.objects.get(username={username!r}), name="bench")[1])
"""


def payload(n: int) -> bytes:
    service, category, subject, description = REQUESTS[n % len(REQUESTS)]
    return json.dumps({
        "service": service, "category": category, "subject": f"{subject} #{n}",
        "description": description, "stops_work": ("no", "partly", "yes")[n % 3],
        "affected": ("me", "team", "me", "many")[n % 4], "form_answers": {},
    }).encode()


def start_server(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    """``vuoro serve --no-worker``: the production gunicorn command (worker class, body limits,
    access log), its output discarded."""
    server = subprocess.Popen(
        [str(BIN / "vuoro"), "serve", "--no-worker", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            # 503 without a task worker is expected; the database answering is what counts.
            if b'"database": "ok"' in conn.getresponse().read():
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn did not start on 127.0.0.1:{port} (port taken?)")


COUNT_QUERIES = """
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from vuoro.accounts.models import User
from vuoro.accounts.services import api_token_issue
token = api_token_issue(user=User.objects.get(username={username!r}), name="count")[1]
client = Client()
def create():
    return client.post("/api/v1/tickets", {body!r}, content_type="application/json",
                       HTTP_AUTHORIZATION="Bearer " + token)
create()
with CaptureQueriesContext(connection) as queries:
    assert create().status_code == 201
print(len(queries.captured_queries))
"""


def queries_per_create(env: dict[str, str], username: str = "maija") -> str:
    """Database queries of one API create with the configuration cached (in-process)."""
    code = COUNT_QUERIES.format(username=username, body=payload(10**6).decode())
    return django_snippet(env, code).splitlines()[-1]


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid] + [p for child in children for p in _tree(int(child))]


def tree_rss_mb(processes: list[subprocess.Popen]) -> float:
    """Resident memory (VmRSS) of the processes and all their descendants, in MB."""
    total_kb = 0
    for pid in (p for process in processes for p in _tree(process.pid)):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kb += next((int(line.split()[1]) for line in status.splitlines()
                          if line.startswith("VmRSS:")), 0)
    return total_kb / 1024


def tree_cpu_seconds(processes: list[subprocess.Popen]) -> float:
    """User + system CPU time of the processes and all their descendants, in seconds."""
    return sum(_cpu_seconds(p) for process in processes for p in _tree(process.pid))


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process on the machine (0 when none is visible)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += _cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_split(server: subprocess.Popen, worker: subprocess.Popen | None) -> dict[str, float]:
    """CPU seconds so far of the web processes, the worker, PostgreSQL and this client."""
    mine = os.times()
    return {"web": tree_cpu_seconds([server]),
            "worker": tree_cpu_seconds([worker]) if worker is not None else 0.0,
            "postgres": postgres_cpu_seconds(), "client": mine.user + mine.system}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client(port: int, token: str, numbers: "itertools.count[int]", until: int, run: Run) -> None:
    """One keep-alive connection sending creates until the shared counter reaches ``until``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    while (n := next(numbers)) < until:
        started = time.perf_counter()
        conn.request("POST", "/api/v1/tickets", body=payload(n), headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        with run.lock:
            if response.status == 201 and b'"reference"' in body:
                run.latencies.append(elapsed)
            else:
                run.errors.append(f"{response.status} {body[:200]!r}")
    conn.close()


def drive(port: int, token: str, concurrency: int, requests: int, first: int) -> tuple[Run, float]:
    run = Run()
    numbers = itertools.count(first)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(client, port, token, numbers, first + requests, run)
                       for _ in range(concurrency)]:
            future.result()
    return run, time.perf_counter() - started


def row(db: str, shape: str, concurrency: int, run: Run, seconds: float) -> str:
    ok = len(run.latencies)
    ms = [x * 1000 for x in run.latencies] or [float("nan")]
    return (f"| {db} | {shape} | {concurrency} | {ok} | {ok / seconds:.0f} | "
            f"{percentile(ms, 50):.1f} | {percentile(ms, 99):.1f} | {len(run.errors)} |")


def trend(run: Run) -> str:
    """p50 of the first and the last tenth: a rise means intake slows as tickets accumulate."""
    tenth = max(1, len(run.latencies) // 10)
    first, last = run.latencies[:tenth], run.latencies[-tenth:]
    if not first:
        return "no successful creates"
    return (f"p50 of the first {tenth}: {percentile(first, 50) * 1000:.1f} ms, "
            f"of the last {tenth}: {percentile(last, 50) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--requests", type=int, default=2000, help="Creates per concurrency level.")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn processes; default as `vuoro serve`: 2 on PostgreSQL, 1 on SQLite.")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--no-worker", action="store_true",
                        help="Do not run a `vuoro worker` beside (it sends the mail and webhooks "
                             "the creates cause, as in production).")
    parser.add_argument("--port", type=int, default=0, help="Default: a free port.")
    parser.add_argument("--as-user", default="maija", help="Demo user the token belongs to.")
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    if args.workers is None:
        args.workers = 2 if args.db == "postgres" else 1
    env = database_env(args.db, "vuoro-bench-api")
    fresh_database(args.db, env)
    token = django_snippet(env, ISSUE_TOKEN.format(username=args.as_user)).splitlines()[-1]
    port = args.port or free_port()
    server = start_server(env, port, args.workers, args.threads)
    worker = None if args.no_worker else subprocess.Popen(
        [str(BIN / "vuoro"), "worker", "--no-reload", "--no-startup-delay"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shape = f"{args.workers}w×{args.threads}t" + ("" if worker is None else " + worker")
    print(f"<!-- queries per create: {queries_per_create(env)} -->")
    print(f"<!-- {machine()}; load average before: {Path('/proc/loadavg').read_text().split()[:3]} -->")
    print("| database | gunicorn | concurrency | creates | creates/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        first = 0
        drive(port, token, max(args.concurrency), args.warmup, first)
        first += args.warmup
        for concurrency in args.concurrency:
            before = cpu_split(server, worker)
            run, seconds = drive(port, token, concurrency, args.requests, first)
            after = cpu_split(server, worker)
            first += args.requests
            print(row(args.db, shape, concurrency, run, seconds), flush=True)
            spent = ", ".join(f"{name} {(after[name] - before[name]) * 1000 / args.requests:.1f}"
                              for name in before)
            print(f"<!-- CPU ms per create (during the run, the worker's reactions included): "
                  f"{spent} -->", flush=True)
            print(f"<!-- {trend(run)} -->", flush=True)
            for error in run.errors[:3]:
                print(f"<!-- error: {error} -->")
        print(f"<!-- load average after: {Path('/proc/loadavg').read_text().split()[:3]} -->")
        processes = [server] + ([] if worker is None else [worker])
        print(f"<!-- resident memory after the run (web{'' if worker is None else ' + worker'}, "
              f"every process of the tree): {tree_rss_mb(processes):.0f} MB -->")
    finally:
        for process in (server, worker):
            if process is not None:
                process.terminate()
                process.wait(timeout=20)


if __name__ == "__main__":
    main()
