"""Email ingest: N messages appended to a real dovecot, time until every one is received.

A fresh database with the demo and a throwaway dovecot on a loopback port (as the tests use).
One ``vuoro worker`` runs its mail thread against one mailbox. Three phases, each timed from
the moment its messages are in the inbox and the mailbox is switched on to the moment every one
has its InboundEmail row:

1. ``new``: ``--messages`` requests from many senders (five each, inside the per-sender rate
   limit); one in ten is HTML with a small image attached. Each becomes a ticket through the one
   intake (routing, SLA clocks, out-of-hours decision, acknowledgement and desk mail, webhooks).
2. ``replies``: one reply per ticket of phase 1 from its requester, threaded by ``In-Reply-To``
   on the acknowledgement's Message-ID, with the quoted history below it.
3. ``automatic``: out-of-office replies and list mail, received and dropped by the loop filter:
   the cost of the mail layer itself (IMAP fetch, parse, dedupe, flag).

Prints messages/s per phase, the outcomes and the machine.

    .venv/bin/python bench/email_ingest.py
    .venv/bin/python bench/email_ingest.py --database-url postgres://postgres@127.0.0.1:5432/vuoro_bench_mail
"""

import argparse
import json
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import BIN, django_snippet, machine  # noqa: E402
from page_latency import bench_env, fresh_database, start_worker, wait_for_heartbeats  # noqa: E402
from tests.dovecot import Dovecot  # noqa: E402

PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
ADDRESS = "bench@example.test"

MAILBOX = """
from vuoro.catalog.models import Service
from vuoro.channels.models import Mailbox
Mailbox.objects.create(name="Bench", address="{address}", service=Service.objects.order_by("pk").first(),
                       imap_host="127.0.0.1", imap_port={port}, imap_username="{user}",
                       imap_password="{password}", imap_ssl=False, active=False)
"""

WAIT = """
import sys, time
from django.db.models import Count
from vuoro.channels.models import InboundEmail
from vuoro.channels.models import Mailbox
from vuoro.tickets.models import Ticket
tickets_before = Ticket.objects.count()
rows_before = {rows_before}
# The mailbox is switched on here and off at the end: the clock sees the whole phase.
started = time.perf_counter()
Mailbox.objects.filter(address="{address}").update(active=True)
seen = 0
while seen < {count} and time.perf_counter() - started < {timeout}:
    time.sleep(0.05)
    now = InboundEmail.objects.count() - rows_before
    if now != seen:
        print(f"progress {{now}}", file=sys.stderr, flush=True)
        seen = now
elapsed = time.perf_counter() - started
Mailbox.objects.filter(address="{address}").update(active=False)
outcomes = dict(InboundEmail.objects.order_by().values_list("outcome").annotate(n=Count("id")))
print(f"result {{seen}} {{elapsed:.3f}} {{Ticket.objects.count() - tickets_before}} {{outcomes}}")
"""

# Each emailed request's ticket and the acknowledgement it got (a mail client replies to that
# Message-ID; with mail off there is none and the reply threads by the subject's reference).
ACKNOWLEDGEMENTS = """
import json
from vuoro.channels.models import InboundEmail, Outcome
from vuoro.notify.models import OutboundEmail
from vuoro.notify.transports import message_id_for
rows = InboundEmail.objects.filter(outcome=Outcome.TICKET_CREATED).select_related("ticket__requester")
acks = dict(OutboundEmail.objects.filter(key__endswith="-received").values_list("key", "pk"))
print(json.dumps([[r.ticket.requester.email, r.ticket.reference, r.subject,
                   message_id_for("outbox", acks[key]) if (key := f"requester-{r.ticket_id}-received") in acks
                   else ""] for r in rows]))
"""


def new_request(number: int, senders: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Person {number % senders} <person{number % senders}@customer.example>"
    mail["To"] = ADDRESS
    mail["Subject"] = f"Printer {number} on floor {number % 7} is jammed"
    mail["Message-ID"] = f"<bench-{number}@customer.example>"
    mail["Date"] = "Mon, 23 Nov 2026 10:00:00 +0200"
    mail.set_content(f"Hello,\n\nthe printer {number} shows error E{number % 50}.\n\n"
                     f"Best regards\nPerson {number}\n")
    if number % 10 == 3:
        mail.add_alternative(f"<p>Hello,</p><p>the printer <b>{number}</b> shows an error.</p>", subtype="html")
        mail.add_attachment(PIXEL, maintype="image", subtype="png", filename="screen.png")
    return mail.as_bytes()


def reply(number: int, sender: str, reference: str, subject: str, acknowledgement_id: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ADDRESS
    mail["Subject"] = f"Re: {subject} [{reference}]"
    mail["Message-ID"] = f"<bench-reply-{number}@customer.example>"
    if acknowledgement_id:
        mail["In-Reply-To"] = mail["References"] = acknowledgement_id
    mail["Date"] = "Mon, 23 Nov 2026 11:00:00 +0200"
    mail.set_content(f"It works again after a restart, thanks.\n\nOn Mon, 23 Nov 2026 Vuoro wrote:\n"
                     f"> We received your request {reference}.\n> It is handled on the next business day.\n")
    return mail.as_bytes()


def automatic(number: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Person {number} <auto{number}@customer.example>"
    mail["To"] = ADDRESS
    mail["Message-ID"] = f"<bench-auto-{number}@customer.example>"
    if number % 2:
        mail["Subject"] = "Out of office"
        mail["Auto-Submitted"] = "auto-replied"
    else:
        mail["Subject"] = f"[printers] Weekly digest {number}"
        mail["Precedence"] = "list"
        mail["List-Id"] = "<printers.customer.example>"
    mail.set_content("I am away until Monday.\n")
    return mail.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="sqlite:////tmp/vuoro-bench-mail/db.sqlite3",
                        help="Dropped and created anew. Default: a fresh SQLite file under /tmp.")
    parser.add_argument("--messages", type=int, default=1000, help="messages per phase")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes; one polls the mailbox (its lease), all react and send")
    parser.add_argument("--no-mail", action="store_true",
                        help="requester and desk mail off: what the acknowledgements cost")
    args = parser.parse_args()

    env = bench_env(args.database_url, None, None)
    env["VUORO_EMAIL_POLL_INTERVAL"] = "0"
    env["VUORO_REQUESTER_MAIL"] = env["VUORO_AGENT_MAIL"] = "false" if args.no_mail else "true"
    log_dir = Path(tempfile.mkdtemp(prefix="vuoro-bench-mail-logs-"))
    print(f"Fresh database {args.database_url}", file=sys.stderr)
    fresh_database(args.database_url, env)
    dovecot = Dovecot().start()
    workers: list[subprocess.Popen] = []
    results = []
    try:
        django_snippet(env, MAILBOX.format(address=ADDRESS, port=dovecot.port, user=dovecot.user,
                                           password=dovecot.password))
        workers = [start_worker(env, f"bench-mail-{n + 1}", log_dir) for n in range(args.workers)]
        wait_for_heartbeats(env, args.workers)
        senders = max(1, args.messages // 5)
        results.append(phase(env, dovecot, "new", [new_request(n, senders) for n in range(args.messages)],
                             0, args.timeout))
        acks = json.loads(django_snippet(env, ACKNOWLEDGEMENTS).splitlines()[-1])
        replies = [reply(n, *ack) for n, ack in enumerate(acks)]
        results.append(phase(env, dovecot, "replies", replies, args.messages, args.timeout))
        results.append(phase(env, dovecot, "automatic", [automatic(n) for n in range(args.messages)],
                             args.messages + len(replies), args.timeout))
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        dovecot.cleanup()
    print(f"\n{machine()}\ndatabase: {args.database_url.split('://')[0]}, {args.workers} worker(s), one mailbox, "
          f"requester and desk mail {'off' if args.no_mail else 'on'}")
    for name, count, seen, elapsed, tickets, _outcomes in results:
        print(f"{name:>9}: {seen}/{count} received in {elapsed:.1f} s = {seen / elapsed:.1f} messages/s;"
              f" new tickets {tickets}")
    print(f"outcomes: {results[-1][-1]}")
    short = [name for name, count, seen, *_ in results if seen < count]
    if short:
        raise SystemExit(f"not every message was received within {args.timeout} s ({short}); logs in {log_dir}")


def phase(env: dict[str, str], dovecot: Dovecot, name: str, messages: list[bytes], rows_before: int,
          timeout: float) -> tuple[str, int, int, float, int, str]:
    """Append the messages, then wait until each has its InboundEmail row."""
    for start in tqdm(range(0, len(messages), 100), desc=f"{name}: append", unit="×100"):
        dovecot.append(*messages[start:start + 100])
    code = WAIT.format(rows_before=rows_before, count=len(messages), timeout=timeout, address=ADDRESS)
    process = subprocess.Popen([str(BIN / "vuoro"), "shell", "-v0", "-c", code], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with tqdm(total=len(messages), desc=f"{name}: received", unit="msg") as bar:
        for line in process.stderr:
            if line.startswith("progress "):
                bar.update(int(line.split()[1]) - bar.n)
    last = process.stdout.read().strip().splitlines()[-1].split(" ", 4)
    process.wait()
    return name, len(messages), int(last[1]), float(last[2]), int(last[3]), last[4]


if __name__ == "__main__":
    main()
