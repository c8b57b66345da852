"""Signed one-click acknowledgement links, carried in every page notification.

The token holds the page id, the paged person's id and the page's ack nonce, signed with its
own salt and a timestamp, so a link works without signing in, only for that page and person,
and only for ``VUORO_ACK_LINK_MAX_AGE`` seconds (default 24 hours).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

ACK_SALT = "vuoro.paging.ack"
DEFAULT_MAX_AGE = 24 * 3600


class LinkExpired(Exception):
    """The signature is good but the link is older than the allowed age."""


class LinkForged(Exception):
    """The token was not signed here, or does not say what an ack token says."""


@dataclass(frozen=True)
class AckClaim:
    page_id: int
    user_id: int
    nonce: str


def max_age() -> int:
    configured: Any = getattr(settings, "VUORO_ACK_LINK_MAX_AGE", None)
    if configured is None:
        configured = os.environ.get("VUORO_ACK_LINK_MAX_AGE", DEFAULT_MAX_AGE)
    try:
        return max(int(configured), 1)
    except (TypeError, ValueError):
        return DEFAULT_MAX_AGE


def ack_token(*, page_id: int, user_id: int, nonce: str) -> str:
    return signing.TimestampSigner(salt=ACK_SALT).sign_object([page_id, user_id, nonce])


def ack_url(*, page_id: int, user_id: int, nonce: str) -> str:
    """The absolute link for the notification."""
    token = ack_token(page_id=page_id, user_id=user_id, nonce=nonce)
    return settings.BASE_URL + reverse("paging:ack", args=[token])


def read_ack_token(token: str) -> AckClaim:
    """What a token claims; raises LinkExpired or LinkForged."""
    try:
        value: Any = signing.TimestampSigner(salt=ACK_SALT).unsign_object(token, max_age=max_age())
    except signing.SignatureExpired:
        raise LinkExpired from None
    except (signing.BadSignature, ValueError):
        raise LinkForged from None
    if (
        isinstance(value, list) and len(value) == 3 and isinstance(value[0], int)
        and isinstance(value[1], int) and isinstance(value[2], str)
    ):
        return AckClaim(value[0], value[1], value[2])
    raise LinkForged
