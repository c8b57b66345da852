"""Email ingest: N messages appended to a real dovecot, time until every one is a ticket or ignored.

A fresh database with the demo, a throwaway dovecot on a loopback port (as the tests use) loaded
with ``--messages`` messages: plain requests from many senders, one in ten HTML with a small
image attached, one in twenty an out-of-office reply (which makes no ticket). One ``vuoro
worker`` runs its mail thread; the clock starts when the mailbox is configured and stops when
every message has its InboundEmail row. Prints messages/s, the outcomes and the machine.

    .venv/bin/python bench/email_ingest.py --database-url postgres://postgres@127.0.0.1:5432/vuoro_bench_mail
"""

import argparse
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import BIN, machine  # noqa: E402
from page_latency import bench_env, fresh_database, start_worker, wait_for_heartbeats  # noqa: E402
from tests.dovecot import Dovecot  # noqa: E402

PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")

MEASURE = """
import sys, time
from vuoro.catalog.models import Service
from vuoro.channels.models import InboundEmail, Mailbox
from vuoro.tickets.models import Ticket
from django.db.models import Count
service = Service.objects.order_by("pk").first()
tickets_before = Ticket.objects.count()
started = time.perf_counter()
Mailbox.objects.create(name="Bench", address="bench@example.test", service=service,
                       imap_host="127.0.0.1", imap_port={port}, imap_username="{user}",
                       imap_password="{password}", imap_ssl=False)
seen = 0
while seen < {count} and time.perf_counter() - started < {timeout}:
    time.sleep(0.05)
    now = InboundEmail.objects.count()
    if now != seen:
        print(f"progress {{now}}", file=sys.stderr, flush=True)
        seen = now
elapsed = time.perf_counter() - started
outcomes = dict(InboundEmail.objects.values_list("outcome").annotate(n=Count("id")))
print(f"result {{seen}} {{elapsed:.3f}} {{Ticket.objects.count() - tickets_before}} {{outcomes}}")
"""


def message(number: int, senders: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Person {number % senders} <person{number % senders}@customer.example>"
    mail["To"] = "bench@example.test"
    mail["Subject"] = f"Printer {number} on floor {number % 7} is jammed"
    mail["Message-ID"] = f"<bench-{number}@customer.example>"
    mail["Date"] = "Mon, 23 Nov 2026 10:00:00 +0200"
    text = f"Hello,\n\nthe printer {number} shows error E{number % 50}.\n\nBest regards\nPerson {number}\n"
    if number % 20 == 19:
        mail["Auto-Submitted"] = "auto-replied"
        mail.replace_header("Subject", "Out of office")
    mail.set_content(text)
    if number % 10 == 3:
        mail.add_alternative(f"<p>Hello,</p><p>the printer <b>{number}</b> shows an error.</p>", subtype="html")
        mail.add_attachment(PIXEL, maintype="image", subtype="png", filename="screen.png")
    return mail.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="sqlite:////tmp/vuoro-bench-mail/db.sqlite3",
                        help="Dropped and created anew. Default: a fresh SQLite file under /tmp.")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    env = bench_env(args.database_url, None, None)
    env["VUORO_EMAIL_POLL_INTERVAL"] = "0"
    env["VUORO_REQUESTER_MAIL"] = env["VUORO_AGENT_MAIL"] = "true"
    log_dir = Path(tempfile.mkdtemp(prefix="vuoro-bench-mail-logs-"))
    print(f"Fresh database {args.database_url}", file=sys.stderr)
    fresh_database(args.database_url, env)
    dovecot = Dovecot().start()
    worker = None
    try:
        senders = max(1, args.messages // 5)  # five each: well inside the per-sender rate limit
        for start in tqdm(range(0, args.messages, 100), desc="append to dovecot", unit="×100"):
            dovecot.append(*(message(n, senders) for n in range(start, min(start + 100, args.messages))))
        worker = start_worker(env, "bench-mail-1", log_dir)
        wait_for_heartbeats(env, 1)
        result = measure(env, dovecot, args.messages, args.timeout)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        dovecot.cleanup()
    seen, elapsed, tickets, outcomes = result
    print(f"\n{machine()}\ndatabase: {args.database_url.split('://')[0]}, 1 worker, "
          f"{args.messages} messages appended to dovecot")
    print(f"received {seen} in {elapsed:.1f} s = {seen / elapsed:.1f} messages/s; tickets {tickets}; {outcomes}")
    if seen < args.messages:
        raise SystemExit(f"only {seen} of {args.messages} received within {args.timeout} s; logs in {log_dir}")


def measure(env: dict[str, str], dovecot: Dovecot, count: int, timeout: float) -> tuple[int, float, int, str]:
    code = MEASURE.format(port=dovecot.port, user=dovecot.user, password=dovecot.password,
                          count=count, timeout=timeout)
    process = subprocess.Popen([str(BIN / "vuoro"), "shell", "-v0", "-c", code], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with tqdm(total=count, desc="received", unit="msg") as bar:
        for line in process.stderr:
            if line.startswith("progress "):
                bar.update(int(line.split()[1]) - bar.n)
    last = process.stdout.read().strip().splitlines()[-1].split(" ", 4)
    process.wait()
    return int(last[1]), float(last[2]), int(last[3]), last[4]


if __name__ == "__main__":
    main()
