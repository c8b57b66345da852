"""Read latency of the agent queue, the API list and the partner console at 10k to 1M tickets.

For each size: a fresh database (migrate + demo + ``vuoro seed``), or with ``--grow`` one
database topped up from size to size (seed 100k, measure, seed 900k more, measure), then, in a child process
configured for that database, each read is made ``--samples`` times after a warm-up through
Django's test client in-process: the whole middleware stack, view (or API operation) and
template render, without a network hop or gunicorn. Prints p50/p95 in milliseconds as
markdown table rows.

    .venv/bin/python bench/queue_list.py --db postgres
    .venv/bin/python bench/queue_list.py --db sqlite --sizes 10000 100000 --samples 100
    .venv/bin/python bench/queue_list.py --db postgres --grow --sizes 100000 1000000
    .venv/bin/python bench/queue_list.py --db postgres --grow --keep --sizes 1000000  # measure again

``--keep`` reuses the grown database as it is (no drop, no demo) and seeds only what is missing,
so a change to the reads can be measured again without seeding a million tickets again.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BIN, database_env, django_snippet, fresh_database, machine, percentile, vuoro  # noqa: E402

AGENT = "antti"
PARTNER = "paula"
SEARCH_WORDS = ("näyttö", "printer")


def reads(agent_token: str) -> list[tuple[str, Callable[[], object]]]:
    """(label, call) for each measured read; every call must answer 200."""
    from django.test import Client
    from django.urls import reverse

    from vuoro.accounts.models import User
    from vuoro.tickets.selectors import TicketFilters, ticket_list

    agent = User.objects.get(username=AGENT)
    desk = Client()
    desk.force_login(agent)
    partner = Client()
    partner.force_login(User.objects.get(username=PARTNER))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {agent_token}")
    queue = reverse("desk:queue")
    deep = deep_cursor(agent)

    def get(client: Client, url: str, params: dict | None = None) -> Callable[[], object]:
        def call() -> object:
            response = client.get(url, params or {})
            if response.status_code != 200:
                raise SystemExit(f"{url} {params} answered {response.status_code}")
            return response
        return call

    word = SEARCH_WORDS[0]
    return [
        ("desk queue GET /desk/ (active, newest)", get(desk, queue)),
        ("desk queue sorted by priority", get(desk, queue, {"sort": "priority"})),
        ("desk queue, closed tickets, newest", get(desk, queue, {"status": "closed"})),
        (f"desk queue search q={word}", get(desk, queue, {"q": word})),
        ("API GET /api/v1/tickets?limit=50", get(api, "/api/v1/tickets", {"limit": 50})),
        ("API list incl. closed, first page",
         get(api, "/api/v1/tickets", {"limit": 50, "include_closed": "true"})),
        ("API list incl. closed, deep page (cursor at the middle)",
         get(api, "/api/v1/tickets", {"limit": 50, "include_closed": "true", "after": deep})),
        (f"API search q={SEARCH_WORDS[1]} incl. closed",
         get(api, "/api/v1/tickets", {"limit": 50, "include_closed": "true", "q": SEARCH_WORDS[1]})),
        ("selector ticket_list (active, newest)",
         lambda: ticket_list(user=agent, filters=TicketFilters(), size=50)),
        ("partner console GET /partner/", get(partner, reverse("partner:queue"))),
    ]


def deep_cursor(agent: object) -> str:
    """The cursor after half of all tickets, found by walking pages as a client would."""
    from vuoro.tickets.models import Ticket
    from vuoro.tickets.selectors import TicketFilters, ticket_list

    target = Ticket.objects.count() // 2
    cursor, seen = None, 0
    while seen < target:
        page = ticket_list(user=agent, filters=TicketFilters(include_closed=True), cursor=cursor, size=200)
        seen += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return cursor or ""


def timed(call: Callable[[], object], warmup: int, samples: int) -> list[float]:
    for _ in range(warmup):
        call()
    results = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        results.append((time.perf_counter() - started) * 1000)
    return results


def measure(token: str, warmup: int, samples: int) -> None:
    """Child process: Django is configured for one database by the environment."""
    import django

    django.setup()
    from vuoro.tickets.models import Ticket

    count = Ticket.objects.count()
    for label, call in reads(token):
        ms = timed(call, warmup, samples)
        print(json.dumps({"label": label, "tickets": count, "p50": percentile(ms, 50),
                          "p95": percentile(ms, 95), "samples": samples}), flush=True)


def issue_token(env: dict[str, str]) -> str:
    code = ("from vuoro.accounts.models import User\n"
            "from vuoro.accounts.services import api_token_issue\n"
            f"print(api_token_issue(user=User.objects.get(username={AGENT!r}), name='bench')[1])")
    return vuoro(env, "shell", "-v0", "-c", code).strip().splitlines()[-1]


def run_size(db: str, size: int, warmup: int, samples: int, *, grow: bool = False,
             keep: bool = False) -> None:
    """Seed (a fresh database, or with ``grow`` the one grown database topped up to ``size``),
    then measure every read in a child process."""
    env = database_env(db, "vuoro-bench-scale-grow" if grow else f"vuoro-bench-list-{size}")
    if not keep:
        fresh_database(db, env)
    have = int(django_snippet(env, "from vuoro.tickets.models import Ticket\nprint(Ticket.objects.count())")
               .splitlines()[-1]) if keep else 0
    if size > have:
        started = time.monotonic()
        # A different seed per step: a top-up adds tickets unlike the ones already there.
        vuoro(env, "seed", "--tickets", str(size - have), "--seed", str(size), "--no-progress")
        seconds = time.monotonic() - started
        print(f"<!-- {db}: seeded {size - have} tickets in {seconds:.0f} s "
              f"({(size - have) / seconds:.0f} tickets/s) -->", flush=True)
    child = subprocess.run(
        [str(BIN / "python"), __file__, "--measure", issue_token(env), "--warmup", str(warmup),
         "--samples", str(samples)], env=env, check=True, text=True, stdout=subprocess.PIPE)
    for line in child.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            print(f"| {db} | {r['tickets']:,} | {r['label']} | {r['p50']:.1f} | {r['p95']:.1f} | "
                  f"{r['samples']} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--grow", action="store_true",
                        help="One database (vuoro_bench_scale_grow) topped up from size to size.")
    parser.add_argument("--keep", action="store_true",
                        help="With --grow: keep the grown database, seed only what is missing.")
    parser.add_argument("--measure", metavar="TOKEN", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vuoro.settings")
        measure(args.measure, args.warmup, args.samples)
        return
    print(f"<!-- {machine()} -->")
    print("| database | tickets | read | p50 ms | p95 ms | samples |")
    print("|---|---|---|---|---|---|")
    print(f"<!-- load average before: {Path('/proc/loadavg').read_text().strip()} -->", flush=True)
    for step, size in enumerate(sorted(args.sizes) if args.grow else args.sizes):
        run_size(args.db, size, args.warmup, args.samples, grow=args.grow,
                 keep=args.grow and (args.keep or step > 0))
    print(f"<!-- load average after: {Path('/proc/loadavg').read_text().strip()} -->", flush=True)


if __name__ == "__main__":
    main()
