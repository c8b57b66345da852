"""Page latency: from a critical out-of-hours ticket created through the API to the webhook.

Sets up a critical service whose calendar is never open and which the desk covers out of hours
(coverage model "none", no partner) with an escalation policy paging one person; that person
has two webhook contact methods on a loopback receiver run by this script, the first at once,
the second five minutes on (where an unknown outcome moves on to). Then it creates
work-stopping tickets through ``POST /api/v1/tickets`` (gunicorn started here) and measures,
per ticket, the time from the start of the API call to the first webhook arriving.

Runs: ``--sequential`` tickets one after another with one ``vuoro worker`` and with two (0
skips them); ``--burst`` tickets at once from ``--burst-clients`` connections with two
workers; and the same burst again with one of the two workers SIGKILLed when half the tickets
are in. Prints p50/p95/p99/max per run, end to end and after the API answered, and per run
the pages lost (no webhook), received twice (one Idempotency-Key more than once) and the
unknown outcomes moved on to the next contact method.

    .venv/bin/python bench/page_latency.py                     # 200 from 8 clients, then killed
    .venv/bin/python bench/page_latency.py --sequential 0 --burst 50   # a quick check
    .venv/bin/python bench/page_latency.py --database-url postgres://postgres@127.0.0.1:5432/vuoro_bench_paging
"""

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_intake import free_port, start_server  # noqa: E402
from common import BIN, ROOT, django_snippet, machine, percentile, vuoro  # noqa: E402

SETUP = """
from django.utils import timezone
from vuoro.accounts.models import Role, Team, User
from vuoro.accounts.services import api_token_issue
from vuoro.calendars.models import Calendar
from vuoro.catalog.models import Category, Service
from vuoro.coverage.models import CoverageModel, ServiceCoverage
from vuoro.notify.models import ContactKind, ContactMethod, NotificationRule
from vuoro.paging.models import EscalationPolicy, EscalationStep, TargetKind

never = Calendar.objects.create(name="Bench: never open", holiday_country="", always_open=False)
service = Service.objects.create(
    slug="bench-critical", name_fi="Mittaus", name_en="Benchmark", name_sv="Mätning",
    critical=True, calendar=never, default_team=Team.objects.order_by("id").first())
Category.objects.create(service=service, slug="down", name_fi="Ei toimi", name_en="Down",
                        name_sv="Fungerar inte")
person = User.objects.create(username="bench-oncall", role=Role.AGENT, first_name="On",
                             last_name="Call", email="bench-oncall@vuoro.example", language="en")
for delay, path in ((0, "/page"), (5, "/page-next")):
    method = ContactMethod.objects.create(user=person, kind=ContactKind.WEBHOOK, label=path,
                                          address={url!r} + path, created_at=timezone.now())
    NotificationRule.objects.create(user=person, contact_method=method, delay_minutes=delay)
policy = EscalationPolicy.objects.create(name="Bench on-call")
EscalationStep.objects.create(policy=policy, order=0, wait_minutes=30,
                              target_kind=TargetKind.USER, target_user=person)
ServiceCoverage.objects.create(service=service, model=CoverageModel.NONE, escalation_policy=policy)
print(api_token_issue(user=User.objects.get(username={requester!r}), name="bench")[1])
"""
NUMBER = re.compile(r"#(\d+)")
WARMUP = 5  # tickets created and paged before measuring: connections, compiled calendars


@dataclass
class Arrivals:
    """Webhooks received, by ticket number (first arrival) and by Idempotency-Key (copies)."""

    at: dict[int, float] = field(default_factory=dict)
    wall: dict[int, float] = field(default_factory=dict)
    copies: dict[str, int] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def record(self, number: int, key: str, at: float, wall: float) -> None:
        with self.changed:
            self.at.setdefault(number, at)
            self.wall.setdefault(number, wall)
            self.copies[key] = self.copies.get(key, 0) + 1
            self.numbers[key] = number
            self.changed.notify_all()

    def twice(self, numbers: range) -> int:
        """Messages (keys) of these tickets received more than once."""
        with self.lock:
            return sum(1 for key, n in self.copies.items() if n > 1 and self.numbers[key] in numbers)

    def wait_for(self, numbers: range, timeout: float, progress: tqdm) -> list[int]:
        """Wait until every number has arrived; returns those still missing at the timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                missing = [n for n in numbers if n not in self.at]
                progress.n = len(numbers) - len(missing)
                progress.refresh()
                if not missing or time.monotonic() >= deadline:
                    return missing
                self.changed.wait(timeout=0.5)


def receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    """A loopback webhook receiver: 200 for every POST, arrival time by ticket number."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the http.server hook
            arrived, wall = time.perf_counter(), time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            try:
                title = str(json.loads(body).get("title", ""))
            except ValueError:
                title = ""
            if match := NUMBER.search(title):
                key = self.headers.get("Idempotency-Key") or f"no-key-{time.perf_counter_ns()}"
                arrivals.record(int(match.group(1)), key, arrived, wall)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True).start()
    return server


def bench_env(database_url: str, page_interval: str | None, scan_interval: str | None) -> dict[str, str]:
    """The workers' environment; intervals not given are the worker's own defaults."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="vuoro.settings", VUORO_LOG_LEVEL="WARNING",
               DATABASE_URL=database_url)
    for name, value in (("VUORO_PAGE_INTERVAL", page_interval), ("VUORO_SCAN_INTERVAL", scan_interval)):
        env.pop(name, None)
        if value is not None:
            env[name] = value
    if database_url.startswith("sqlite:///"):
        env["VUORO_DATA_DIR"] = str(Path(database_url.removeprefix("sqlite:///")).parent)
    return env


def fresh_database(database_url: str, env: dict[str, str]) -> None:
    """An empty database: drop and create it (PostgreSQL) or delete the file, then migrate."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        server, name = database_url.rsplit("/", 1)
        maintenance = f"{server}/postgres"
        subprocess.run(["dropdb", "--if-exists", "--force", f"--maintenance-db={maintenance}", name],
                       check=True)
        subprocess.run(["createdb", f"--maintenance-db={maintenance}", name], check=True)
    vuoro(env, "migrate", "--no-input", "-v0")
    vuoro(env, "demo")


def start_worker(env: dict[str, str], worker_id: str, log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"{worker_id}.log", "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        [str(BIN / "vuoro"), "worker", "--no-reload", "--no-startup-delay",
         "--worker-id", worker_id],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_for_heartbeats(env: dict[str, str], count: int) -> None:
    code = ("from vuoro.core.models import WorkerHeartbeat as W; import time\n"
            f"t = time.monotonic()\nwhile W.objects.count() < {count} and time.monotonic() - t < 60:"
            " time.sleep(0.2)\nprint(W.objects.count())")
    if int(django_snippet(env, code).splitlines()[-1]) < count:
        raise SystemExit(f"{count} workers did not start; see the logs")


def payload(number: int) -> bytes:
    return json.dumps({
        "service": "bench-critical", "category": "down", "subject": f"Mail is down #{number}",
        "description": "Nobody can send or read mail.", "stops_work": "yes", "affected": "many",
        "form_answers": {},
    }).encode()


@dataclass
class Run:
    started: dict[int, float] = field(default_factory=dict)
    wall: dict[int, float] = field(default_factory=dict)
    answered: dict[int, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def create(port: int, token: str, numbers: list[int], run: Run, progress: tqdm) -> None:
    """Create tickets one after another over one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for number in numbers:
        started, wall = time.perf_counter(), time.time()
        conn.request("POST", "/api/v1/tickets", body=payload(number), headers=headers)
        response = conn.getresponse()
        body = response.read()
        answered = time.perf_counter()
        with run.lock:
            if response.status == 201:
                run.started[number], run.answered[number] = started, answered
                run.wall[number] = wall
            else:
                run.errors.append(f"{response.status} {body[:200]!r}")
        progress.update()
    conn.close()


def drive(port: int, token: str, numbers: range, clients: int,
          kill: subprocess.Popen | None = None) -> Run:
    """Create the tickets from ``clients`` connections; SIGKILL ``kill`` when half are in."""
    run = Run()
    if kill is not None:
        def killer() -> None:
            while len(run.started) < len(numbers) // 2:
                time.sleep(0.01)
            kill.send_signal(signal.SIGKILL)
            kill.wait()
        threading.Thread(target=killer, name="bench-killer", daemon=True).start()
    chunks = [list(numbers[i::clients]) for i in range(clients)]
    with tqdm(total=len(numbers), desc="  creates", unit="ticket", leave=False) as progress, \
            ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(create, port, token, chunk, run, progress) for chunk in chunks]:
            future.result()
    return run


def figures(samples: list[float]) -> str:
    if not samples:
        return "no samples | | | "
    ms = [s * 1000 for s in samples]
    return " | ".join(f"{percentile(ms, p):.0f}" for p in (50, 95, 99)) + f" | {max(ms):.0f}"


STAGES = """
import json
from vuoro.notify.models import OutboundMessage
from vuoro.paging.models import Page, PageEvent
stamps = {{}}
pages = Page.objects.filter(ticket__subject__startswith="Mail is down #").select_related("ticket")
for page in pages:
    number = int(page.ticket.subject.rsplit("#", 1)[1])
    if {first} <= number < {last}:
        fired = PageEvent.objects.filter(page=page, kind="notified").values_list("at", flat=True).first()
        message = OutboundMessage.objects.filter(key__startswith=f"page-{{page.pk}}-").order_by("id").first()
        claimed = message.claimed_at if message else None
        stamps[number] = [page.opened_at.timestamp(), fired and fired.timestamp(),
                          claimed and claimed.timestamp()]
print(json.dumps(stamps))
"""


def stages(env: dict[str, str], label: str, run: Run, arrivals: Arrivals, numbers: range) -> str:
    """Where the time went, from the rows' own clocks: p50 / p95 ms of each stage."""
    found = json.loads(django_snippet(env, STAGES.format(first=numbers.start, last=numbers.stop))
                       .splitlines()[-1])
    spans: list[list[float]] = [[], [], [], []]
    for key, (opened, fired, claimed) in found.items():
        number = int(key)
        if None in (fired, claimed) or number not in run.wall or number not in arrivals.wall:
            continue
        points = [run.wall[number], opened, fired, claimed, arrivals.wall[number]]
        for i, span in enumerate(spans):
            span.append(max(0.0, points[i + 1] - points[i]) * 1000)
    cells = [f"{percentile(span, 50):.0f} / {percentile(span, 95):.0f}" if span else "-"
             for span in spans]
    return f"| {label} | " + " | ".join(cells) + " |"


UNKNOWN = """
from collections import Counter
from vuoro.paging.models import UnknownOutcome
rows = UnknownOutcome.objects.filter(page__ticket__subject__startswith="Mail is down #")
found = Counter()
for row in rows.select_related("page__ticket", "moved_to"):
    if {first} <= int(row.page.ticket.subject.rsplit("#", 1)[1]) < {last}:
        found[row.follow_up + ("/sent" if row.moved_to and row.moved_to.status == "sent" else "")] += 1
print(dict(found) or "none")
"""


def measure(env: dict[str, str], label: str, port: int, token: str, arrivals: Arrivals,
            numbers: range, clients: int, timeout: float,
            kill: subprocess.Popen | None = None) -> tuple[str, str]:
    """Create the tickets, wait for their webhooks; a latency row and a stage row."""
    print(f"{label}: creating {len(numbers)} tickets with {clients} client(s)", file=sys.stderr)
    run = drive(port, token, numbers, clients, kill)
    with tqdm(total=len(numbers), desc="  webhooks", unit="page", leave=False) as progress:
        missing = arrivals.wait_for(numbers, timeout, progress)
    created = [n for n in numbers if n in run.started]
    arrived = [n for n in created if n in arrivals.at]
    end_to_end = [arrivals.at[n] - run.started[n] for n in arrived]
    after_answer = [max(0.0, arrivals.at[n] - run.answered[n]) for n in arrived]
    twice = arrivals.twice(numbers)
    api = [run.answered[n] - run.started[n] for n in created]
    unknown = django_snippet(env, UNKNOWN.format(first=numbers.start, last=numbers.stop)).splitlines()[-1]
    row = (f"| {label} | {len(created)} | {len(arrived)} | {figures(end_to_end)} | "
           f"{figures(after_answer)} | {figures(api)} | "
           f"{len(run.errors)} errors, {len(missing)} lost, {twice} twice, unknown: {unknown} |")
    for error in run.errors[:3]:
        print(f"  error: {error}", file=sys.stderr)
    return row, stages(env, label, run, arrivals, numbers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="sqlite:////tmp/vuoro-bench-paging/db.sqlite3",
                        help="Dropped and created anew. Default: a fresh SQLite file under /tmp.")
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--burst-clients", type=int, default=8,
                        help="Connections creating the burst at once.")
    parser.add_argument("--page-interval", help="VUORO_PAGE_INTERVAL for the workers (default: theirs).")
    parser.add_argument("--scan-interval", help="VUORO_SCAN_INTERVAL for the workers (default: theirs).")
    parser.add_argument("--gunicorn-workers", type=int, default=2, help="As `vuoro serve`.")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requester", default="maija", help="Demo user the API token belongs to.")
    parser.add_argument("--timeout", type=float, default=120, help="Seconds to wait for webhooks.")
    args = parser.parse_args()

    env = bench_env(args.database_url, args.page_interval, args.scan_interval)
    log_dir = Path(tempfile.mkdtemp(prefix="vuoro-bench-paging-logs-"))
    arrivals = Arrivals()
    hook = receiver(arrivals)
    url = f"http://127.0.0.1:{hook.server_address[1]}"
    print(f"Fresh database {args.database_url}", file=sys.stderr)
    fresh_database(args.database_url, env)
    token = django_snippet(env, SETUP.format(url=url, requester=args.requester)).splitlines()[-1]
    port = free_port()
    server = start_server(env, port, args.gunicorn_workers, args.threads)
    workers = [start_worker(env, "bench-pager-1", log_dir)]
    rows = []
    try:
        wait_for_heartbeats(env, 1)
        seq, warm = args.sequential, WARMUP
        measure(env, "warm-up", port, token, arrivals, range(0, warm), 1, args.timeout)
        if seq:
            rows.append(measure(env, "sequential, 1 worker", port, token, arrivals,
                                range(warm, warm + seq), 1, args.timeout))
        workers.append(start_worker(env, "bench-pager-2", log_dir))
        wait_for_heartbeats(env, 2)
        if seq:
            rows.append(measure(env, "sequential, 2 workers", port, token, arrivals,
                                range(warm + seq, warm + 2 * seq), 1, args.timeout))
        start = warm + 2 * seq
        burst = range(start, start + args.burst)
        rows.append(measure(env, f"burst of {args.burst} ({args.burst_clients} clients), 2 workers",
                            port, token, arrivals, burst, args.burst_clients, args.timeout))
        killed = range(burst.stop, burst.stop + args.burst)
        rows.append(measure(env, f"burst of {args.burst} ({args.burst_clients} clients), 1 of 2 "
                            "workers SIGKILLed mid-burst", port, token, arrivals, killed,
                            args.burst_clients, args.timeout, kill=workers[0]))
    finally:
        for process in [*workers, server]:
            if process.poll() is None:
                process.terminate()
        for process in [*workers, server]:
            process.wait(timeout=30)
        hook.shutdown()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"<!-- {machine()}; load average {load}; {args.database_url}; gunicorn "
          f"{args.gunicorn_workers}w×{args.threads}t; VUORO_PAGE_INTERVAL="
          f"{args.page_interval or 'default'} VUORO_SCAN_INTERVAL={args.scan_interval or 'default'}; "
          f"worker logs in {log_dir} -->")
    print("| run | created | paged | p50 ms | p95 ms | p99 ms | max ms "
          "| after answer p50 | p95 | p99 | max | API p50 | p95 | p99 | max | problems |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row, _stages in rows:
        print(row)
    print()
    print("| run (p50 / p95 ms) | API call → page opened | opened → step fired "
          "| fired → message claimed | claimed → webhook arrived |")
    print("|---|---|---|---|---|")
    for _row, stage_row in rows:
        print(stage_row)


if __name__ == "__main__":
    main()
