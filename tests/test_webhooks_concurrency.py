"""Two senders drain one webhook queue at once: every delivery goes out exactly once."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from tests.fake_provider import FakeProvider
from vuoro.webhooks import sender
from vuoro.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_deliver_each_once():
    """Two threads, each with its own database connection (on PostgreSQL: skip_locked claims)."""
    count = 24
    with FakeProvider() as provider:
        provider.set_mode("delay", delay=0.02)  # long enough that the senders interleave
        sub = WebhookSubscription.objects.create(name="ops", url=provider.url("/hook"), secret="s",
                                                 events=["ticket.created"])
        now = timezone.now()
        WebhookDelivery.objects.bulk_create([
            WebhookDelivery(subscription=sub, event="ticket.created", key=f"ev-{n}:s{sub.pk}",
                            payload={"n": n}, next_attempt_at=now, created_at=now)
            for n in range(count)])
        start = threading.Barrier(2)
        results: list[dict[str, int]] = []

        def run() -> None:
            try:
                start.wait()
                results.append(sender.send_webhooks(batch=count))
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        keys = Counter(r.header("X-Vuoro-Delivery") for r in provider.received("/hook"))
    assert keys == Counter({f"ev-{n}:s{sub.pk}": 1 for n in range(count)})
    assert sum(r["delivered"] for r in results) == count
    assert all(r["delivered"] > 0 for r in results), results
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert WebhookAttempt.objects.count() == count
