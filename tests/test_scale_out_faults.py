"""Scale-out under faults: two web processes and two workers on PostgreSQL take a burst of
urgent out-of-hours requests while one worker is SIGKILLed and the database restarts.

Clients send each request with its own Idempotency-Key and retry on any failure (a refused
connection, a 5xx while the database is down) with the same key. Afterwards: every key has
exactly one ticket and the answer to a repeat is that first ticket; every ticket has one page;
the on-call person's provider received each page's notification at most once, and every page
reached it or was surfaced as an unknown outcome. All real processes: gunicorn
(``vuoro serve --no-worker``), ``vuoro worker``, PostgreSQL restarted by ``pg_ctlcluster``,
and a loopback provider.
"""

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import ExitStack

import pytest
from django.utils import timezone

from tests import factories as f
from tests.fake_provider import FakeProvider
from tests.test_paging_faults import restart_postgresql
from tests.web_process import web_process
from tests.worker_harness import kill, start_worker, stop, wait_for
from vuoro.accounts.models import Role
from vuoro.calendars.models import Calendar
from vuoro.coverage.models import CoverageModel, ServiceCoverage
from vuoro.notify.models import ContactKind, MessageStatus, OutboundMessage
from vuoro.notify.services import contact_method_add
from vuoro.paging.models import EscalationPolicy, EscalationStep, Page, TargetKind
from vuoro.tickets.models import Ticket

CLIENTS = 8
PER_CLIENT = 25
RETRY_SECONDS = 90


def _post(base_url: str, token: str, key: str, n: int) -> tuple[int, dict]:
    body = json.dumps({"service": "email", "category": "not-working", "subject": f"Mail down #{n}",
                       "description": "Nobody can send mail.", "stops_work": "yes",
                       "affected": "many", "form_answers": {"device": "laptop"}}).encode()
    request = urllib.request.Request(base_url + "/api/v1/tickets", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
        "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


class Clients:
    """Clients that retry every failed create with its key until it is answered."""

    def __init__(self, urls: list[str], token: str) -> None:
        self.urls, self.token = urls, token
        self.first: dict[str, str] = {}  # key → reference of the first answer
        self.retries = Counter()
        self.lock = threading.Lock()
        self.done = 0

    def run(self, client: int) -> None:
        for i in range(PER_CLIENT):
            n = client * PER_CLIENT + i
            key = f"burst-{n}"
            deadline = time.monotonic() + RETRY_SECONDS
            while True:
                url = self.urls[(n + self.retries[key]) % len(self.urls)]
                try:
                    status, body = _post(url, self.token, key, n)
                except OSError:
                    status, body = 0, {}
                if status in (200, 201):
                    with self.lock:
                        self.first[key] = body["reference"]
                        self.done += 1
                    break
                with self.lock:
                    self.retries[key] += 1
                if time.monotonic() > deadline:
                    raise AssertionError(f"{key} not created in {RETRY_SECONDS} s (last {status})")
                time.sleep(0.2)


def _paging_setup(world, provider: FakeProvider):
    never = Calendar.objects.create(name="Never open", holiday_country="", always_open=False)
    world.critical.calendar = never
    world.critical.save()
    person = f.user(Role.AGENT, language="en")
    contact_method_add(user=person, kind=ContactKind.WEBHOOK, label="pager",
                       address=provider.url(f"/hook/u{person.pk}"))
    policy = EscalationPolicy.objects.create(name="Mail on call")
    EscalationStep.objects.create(policy=policy, order=0, wait_minutes=30,
                                  target_kind=TargetKind.USER, target_user=person)
    ServiceCoverage.objects.create(service=world.critical, model=CoverageModel.NONE,
                                   escalation_policy=policy)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_web_two_workers_survive_a_worker_kill_and_a_database_restart(world, tmp_path):
    provider = FakeProvider().start()
    _paging_setup(world, provider)
    token = f.api_token(world.requester_a)
    fast = {"VUORO_PAGE_INTERVAL": "0.1", "VUORO_SCAN_INTERVAL": "0.2"}
    workers = [start_worker(f"scale-{n}", tmp_path, **fast) for n in range(2)]
    with ExitStack() as stack:
        stack.callback(provider.stop)
        for worker in workers:
            stack.callback(stop, worker)
        webs = [stack.enter_context(web_process(tmp_path / f"web{n}")) for n in range(2)]
        clients = Clients([w.base_url for w in webs], token)
        threads = [threading.Thread(target=clients.run, args=(c,)) for c in range(CLIENTS)]
        for thread in threads:
            thread.start()
        total = CLIENTS * PER_CLIENT
        wait_for(lambda: clients.done >= total // 3, workers, tmp_path, 120)
        kill(workers[0])  # mid-burst, whatever it was doing
        wait_for(lambda: clients.done >= 2 * total // 3, workers[1:], tmp_path, 120)
        restarted = restart_postgresql()
        for thread in threads:
            thread.join(RETRY_SECONDS * 2)
        assert clients.done == total, f"{clients.done} of {total} answered"

        # Every key one ticket; a repeat gets the first one.
        keys = list(clients.first)
        tickets = Ticket.objects.filter(idempotency_key__in=keys)
        assert tickets.count() == total
        assert dict(tickets.values_list("idempotency_key", "reference")) == clients.first
        for key in keys[:: max(1, total // 10)]:
            n = int(key.split("-")[1])
            status, body = _post(webs[n % 2].base_url, token, key, n)
            assert (status, body["reference"]) == (200, clients.first[key])

        # Every ticket one page; every page notified once or surfaced as unknown.
        pages = Page.objects.filter(ticket__in=tickets)
        assert pages.count() == total

        page_ids = set(pages.values_list("pk", flat=True))

        def messages_by_page() -> dict[int, list[OutboundMessage]]:
            found: dict[int, list[OutboundMessage]] = {}
            for message in OutboundMessage.objects.filter(key__startswith="page-"):
                page_id = int(message.key.split("-")[1])
                if page_id in page_ids:
                    found.setdefault(page_id, []).append(message)
            return found

        def settled() -> bool:
            found = messages_by_page()
            return len(found) == total and all(
                m.status not in (MessageStatus.PENDING, MessageStatus.SENDING)
                for messages in found.values() for m in messages)

        wait_for(settled, workers[1:], tmp_path, 120)
        found = messages_by_page()
        received = Counter(r.header("Idempotency-Key") for r in provider.received("/hook"))
        statuses = Counter(m.status for messages in found.values() for m in messages)
        twice = [key for key, count in received.items() if count > 1]
        assert not twice, twice
        reached = {page_id for page_id, messages in found.items()
                   if any(m.status in (MessageStatus.SENT, MessageStatus.UNKNOWN) for m in messages)}
        assert reached == page_ids
        print(f"{total} requests from {CLIENTS} clients over 2 web + 2 workers, worker killed, "
              f"{restarted}: retries {sum(clients.retries.values())}, tickets {tickets.count()}, "
              f"pages {pages.count()}, messages {dict(statuses)}, received {sum(received.values())}, "
              f"received twice 0, at {timezone.now().isoformat()}")
