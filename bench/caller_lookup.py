"""Caller look-up by phone number with 50,000 users who have one.

A fresh database (migrate + demo), then in a child process configured for it: ``--users``
requesters with Finnish numbers typed in assorted ways are ``bulk_create``d (a progress line on
stderr), and ``--lookups`` numbers (nine in ten belong to someone, one in ten to nobody) are
looked up with ``telephony.selectors.caller_find`` (the indexed ``User.phone_e164``), with the
whole desk look-up ``telephony.selectors.lookup`` (caller, tickets and calls), and with the
suffix scan the selector used before ``phone_e164`` existed, for comparison. Prints p50/p99 in
milliseconds as markdown table rows.

    .venv/bin/python bench/caller_lookup.py --db sqlite
    .venv/bin/python bench/caller_lookup.py --db postgres --users 50000 --lookups 1000
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BIN, database_env, fresh_database, machine, percentile  # noqa: E402

BATCH = 2_000
AGENT = "antti"
# The shapes people type numbers in; all normalise to +358 40 NNN NNNN.
FORMS = ("+358 40 {a} {b}", "040-{a} {b}", "040{a}{b}", "00358 40 {a}{b}", "(040) {a}.{b}")


def number_forms(i: int) -> tuple[str, str]:
    """User ``i``'s phone as typed, and as E.164."""
    digits = f"{i:07d}"
    typed = FORMS[i % len(FORMS)].format(a=digits[:3], b=digits[3:])
    return typed, f"+35840{digits}"


def seed(users: int) -> None:
    """``users`` requesters with phones, in batches of BATCH; ``phone_e164`` filled as save() would."""
    from django.db import connection, transaction

    from vuoro.accounts.models import User
    from vuoro.accounts.phone_numbers import normalise

    started = time.monotonic()
    for start in range(0, users, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, users)):
            typed, _ = number_forms(i)
            rows.append(User(username=f"caller{i}", email=f"caller{i}@bench.example", password="!",
                             phone=typed, phone_e164=normalise(typed) or ""))
        with transaction.atomic():
            User.objects.bulk_create(rows)
        done = start + len(rows)
        print(f"\rseeded {done:,}/{users:,} users ({done / (time.monotonic() - started):,.0f}/s)",
              end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "postgresql" else "PRAGMA optimize")


def suffix_scan(number: str) -> Any:
    """The look-up before ``phone_e164``: narrow by the last six digits, normalise in Python."""
    from django.db.models import F, Value
    from django.db.models.functions import Replace

    from vuoro.accounts.models import User
    from vuoro.accounts.phone_numbers import normalise

    digits: Any = F("phone")
    for separator in " -()./":
        digits = Replace(digits, Value(separator), Value(""))
    candidates = (User.objects.filter(is_active=True).exclude(phone="").alias(digits=digits)
                  .filter(digits__endswith=number[-6:]).order_by("pk"))
    return next((u for u in candidates if normalise(u.phone) == number), None)


def timed(label: str, call: Callable[[str], Any], numbers: list[str], expect: list[bool]) -> dict[str, Any]:
    for number in numbers[:20]:  # warm-up
        call(number)
    ms = []
    for number, hit in zip(numbers, expect, strict=True):
        started = time.perf_counter()
        found = call(number)
        ms.append((time.perf_counter() - started) * 1000)
        if bool(found) != hit:
            raise SystemExit(f"{label}: {number} found={found!r}, expected a hit={hit}")
    return {"label": label, "p50": percentile(ms, 50), "p99": percentile(ms, 99), "lookups": len(ms)}


def measure(users: int, lookups: int) -> None:
    """Child process: Django is configured for one database by the environment."""
    import django

    django.setup()
    from django.db import connection

    from vuoro.accounts.models import User
    from vuoro.telephony.selectors import caller_find, lookup

    seed(users)
    rng = random.Random(7)
    picks = [rng.randrange(users) if rng.random() < 0.9 else users + rng.randrange(users)
             for _ in range(lookups)]
    numbers = [number_forms(i)[1] for i in picks]
    expect = [i < users for i in picks]
    agent = User.objects.get(username=AGENT)
    for label, call in [
        ("caller_find (indexed phone_e164)", lambda n: caller_find(number=n)),
        ("lookup: caller, tickets and calls, as an agent", lambda n: lookup(user=agent, raw_number=n).caller),
        ("before: suffix scan + normalise in Python", suffix_scan),
    ]:
        result = timed(label, call, numbers, expect)
        print(json.dumps({**result, "db": connection.vendor, "users": User.objects.count()}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--lookups", type=int, default=1_000)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vuoro.settings")
        measure(args.users, args.lookups)
        return
    print(f"<!-- {machine()} -->")
    print("| database | users | look-up | p50 ms | p99 ms | look-ups |")
    print("|---|---|---|---|---|---|")
    for db in args.db:
        env = database_env(db, "vuoro-bench-caller")
        fresh_database(db, env)
        child = subprocess.run(
            [str(BIN / "python"), __file__, "--measure", "--users", str(args.users),
             "--lookups", str(args.lookups)], env=env, check=True, text=True, stdout=subprocess.PIPE)
        for line in child.stdout.splitlines():
            if line.startswith("{"):
                r = json.loads(line)
                print(f"| {db} | {r['users']:,} | {r['label']} | {r['p50']:.2f} | {r['p99']:.2f} | "
                      f"{r['lookups']:,} |", flush=True)


if __name__ == "__main__":
    main()
