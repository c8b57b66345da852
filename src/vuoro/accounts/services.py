"""Writes on accounts: personal API tokens (issued once, stored hashed, revocable)."""

import copy
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from vuoro.accounts.models import ApiToken, User
from vuoro.core import config_cache

TOKEN_PREFIX = "vuo_"
TOKEN_CACHE_SECONDS = 1.0


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_issue(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token; the plain value is returned once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100] or "token", prefix=prefix,
                                    secret_hash=_hash(secret))
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


@dataclass(frozen=True)
class _KnownToken:
    token_id: int
    secret_hash: str
    user: User
    last_used_at: datetime | None


def _known_token(prefix: str) -> _KnownToken | None:
    token = (ApiToken.objects.select_related("user__organisation")
             .filter(prefix=prefix, revoked_at__isnull=True).first())
    if token is None:
        return None
    return _KnownToken(token.pk, token.secret_hash, token.user, token.last_used_at)


def api_token_authenticate(raw: str) -> User | None:
    """The active user behind a presented token, or None; compares hashes in constant time.

    The token's row and user are kept per process for ``TOKEN_CACHE_SECONDS`` (only tokens that
    exist; see ``core.config_cache.cached_briefly``). A revoked token, a deactivated user and a
    change of role, organisation or team are configuration changes: every process drops what it
    kept within ``VUORO_CONFIG_CHECK_SECONDS``. Each caller gets a copy of the user of its own.
    """
    if not raw or not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX):].partition("_")
    known = config_cache.cached_briefly(("accounts.api_token", prefix), lambda: _known_token(prefix),
                                        TOKEN_CACHE_SECONDS)
    if known is None or not hmac.compare_digest(known.secret_hash, _hash(secret)):
        return None
    if not known.user.is_active:
        return None
    now = timezone.now()
    if known.last_used_at is None or (now - known.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=known.token_id).update(last_used_at=now)
        config_cache.forget(("accounts.api_token", prefix))  # the next request reads the new time
    return copy.copy(known.user)


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Revoke one of ``user``'s tokens; True if it was active."""
    revoked = bool(ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True)
                   .update(revoked_at=timezone.now()))
    if revoked:
        config_cache.config_changed()  # processes that keep the token drop it (core.config_cache)
    return revoked
