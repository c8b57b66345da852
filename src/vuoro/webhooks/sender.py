"""Send due webhook deliveries: the email outbox's claim/settle/unknown pattern, over HTTP.

Claiming and fencing are ``notify.sender``'s (a row is committed as ``sending`` before the
request, settled after, fenced by ``claimed_at``); the meaning of an HTTP answer is
``notify.transports``'s: 2xx delivered, 4xx other than 408/429 failed, 5xx/408/429/refused
retried with exponential backoff, a timeout after the request left ``unknown`` (never resent
automatically). After ``DISABLE_AFTER`` failures in a row a subscription is switched off and
the admins are told.
"""

import json
import logging
from collections import Counter
from datetime import datetime

import requests
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from vuoro.accounts.models import Role, User
from vuoro.core.outbound import outbound_refusal
from vuoro.notify.sender import backoff, claim_due, recover_stuck, settle
from vuoro.notify.services import Notice, notice_send
from vuoro.notify.transports import (
    PERMANENT,
    SENT,
    TRANSIENT,
    Delivery,
    error_detail,
    outcome_for_error,
    outcome_for_status,
    timeout_seconds,
)
from vuoro.webhooks import services
from vuoro.webhooks.models import (
    DeliveryStatus,
    HandOff,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from vuoro.webhooks.signing import sign

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
DISABLE_AFTER = 10
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600


def retry_delay(attempts: int):  # type: ignore[no-untyped-def]
    """30 s after the first failed attempt, doubling, at most an hour."""
    return backoff(attempts, first=FIRST_RETRY_SECONDS, cap=MAX_RETRY_SECONDS)


def _switched_on(model: type[WebhookSubscription] | type[HandOff]) -> QuerySet:
    # A subquery, not a join: FOR UPDATE may not lock the nullable side of an outer join.
    return model.objects.filter(active=True).values("pk")


def claim_delivery(now: datetime) -> WebhookDelivery | None:
    # A switched-off subscription or hand-off keeps its deliveries pending until it is back on.
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) \
        .filter(Q(subscription_id__isnull=True) | Q(subscription_id__in=_switched_on(WebhookSubscription)),
                Q(handoff_id__isnull=True) | Q(handoff_id__in=_switched_on(HandOff))) \
        .order_by("next_attempt_at", "id")
    return claim_due(WebhookDelivery, due, now)


def post(delivery: WebhookDelivery, secret: str) -> tuple[Delivery, object]:
    """POST the signed payload; returns the outcome and the parsed JSON answer (or None).

    A URL that now points into a denied network is a permanent failure, never requested.
    """
    url = delivery.subscription.url if delivery.subscription_id else delivery.handoff.url
    refusal = outbound_refusal(url)
    if refusal:
        return Delivery(PERMANENT, refusal), None
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    stamp = int(timezone.now().timestamp())
    headers = {"Content-Type": "application/json", "X-Vuoro-Event": delivery.event,
               "X-Vuoro-Delivery": delivery.key, "X-Vuoro-Timestamp": str(stamp),
               "X-Vuoro-Signature": sign(secret, stamp, body)}
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout_seconds(),
                                 allow_redirects=False)
    except requests.RequestException as exc:
        return Delivery(outcome_for_error(exc), error_detail(exc)), None
    outcome = outcome_for_status(response.status_code)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    return Delivery(outcome, f"HTTP {response.status_code}", response.status_code), answer


def _fields(delivery: WebhookDelivery, result: Delivery, now: datetime) -> dict[str, object]:
    attempts = delivery.attempts + 1
    base = {"attempts": attempts, "last_status": result.http_status,
            "last_error": "" if result.outcome == SENT else result.detail or result.outcome}
    if result.outcome == SENT:
        return {**base, "status": DeliveryStatus.DELIVERED, "delivered_at": timezone.now()}
    if result.outcome == PERMANENT or (result.outcome == TRANSIENT and attempts >= MAX_ATTEMPTS):
        return {**base, "status": DeliveryStatus.FAILED}
    if result.outcome == TRANSIENT:
        return {**base, "status": DeliveryStatus.PENDING, "claimed_at": None,
                "next_attempt_at": now + retry_delay(attempts)}
    return {**base, "status": DeliveryStatus.UNKNOWN}


def _count_failure(subscription_id: int, failed: bool, now: datetime) -> None:
    """Keep the subscription's failures-in-a-row; disable it and tell the admins at the limit."""
    sub = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    if not failed:
        if sub.failures_in_row:
            sub.failures_in_row = 0
            sub.save(update_fields=["failures_in_row"])
        return
    sub.failures_in_row += 1
    fields = ["failures_in_row"]
    if sub.active and sub.failures_in_row >= DISABLE_AFTER:
        sub.active, sub.disabled_at = False, now
        sub.disabled_reason = f"{sub.failures_in_row} failed deliveries in a row"
        fields += ["active", "disabled_at", "disabled_reason"]
        admins = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk")
        notice_send(users=admins, ticket=None, key=f"webhook-disabled-{sub.pk}-{int(now.timestamp())}",
                    render=lambda _user: _disabled_notice(sub), now=now)
    sub.save(update_fields=fields)


def _disabled_notice(sub: WebhookSubscription) -> Notice:
    text = _("Webhook %(name)s was switched off after %(count)d failed deliveries in a row.") % {
        "name": sub.name, "count": sub.failures_in_row}
    return Notice(text=text, subject=text, body=text + "\n" + sub.url)


def send_delivery(delivery: WebhookDelivery, now: datetime) -> str:
    """Send one claimed delivery, log the attempt, settle it; returns the status it ends in."""
    secret = delivery.subscription.secret if delivery.subscription_id else delivery.handoff.secret
    result, answer = post(delivery, secret)
    fields = _fields(delivery, result, now)
    try:
        with transaction.atomic():
            WebhookAttempt.objects.create(delivery=delivery, at=timezone.now(), outcome=result.outcome,
                                          http_status=result.http_status, detail=result.detail[:2000])
            recorded = settle(WebhookDelivery, delivery, **fields)
            if recorded and delivery.subscription_id:
                _count_failure(delivery.subscription_id, result.outcome != SENT, now)
            if recorded and delivery.handoff_id and result.outcome == SENT and delivery.ticket_id:
                services.reference_store(handoff=delivery.handoff, ticket=delivery.ticket, answer=answer)
    except Exception:  # noqa: BLE001 - the request happened; the watchdog settles the row
        logger.exception("Could not record the outcome of webhook delivery %s", delivery.pk)
        return DeliveryStatus.UNKNOWN
    return str(fields["status"]) if recorded else DeliveryStatus.UNKNOWN


def send_webhooks(*, now: datetime | None = None, batch: int = 50) -> Counter[str]:
    """Send up to ``batch`` due deliveries; counts by final status (empty, so false, when none
    was due). Safe in many processes at once."""
    now = now or timezone.now()
    counts: Counter[str] = Counter()
    for _i in range(batch):
        delivery = claim_delivery(now)
        if delivery is None:
            break
        counts[send_delivery(delivery, now)] += 1
    return counts


def recover_stuck_deliveries(*, now: datetime | None = None) -> int:
    """Deliveries left in ``sending`` over two minutes become ``unknown``; never resent blindly."""
    return recover_stuck(WebhookDelivery, now or timezone.now())
