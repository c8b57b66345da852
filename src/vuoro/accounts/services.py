"""Writes on accounts: personal API tokens (issued once, stored hashed, revocable)."""

import hashlib
import hmac
import secrets

from django.utils import timezone

from vuoro.accounts.models import ApiToken, User

TOKEN_PREFIX = "vuo_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_issue(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token; the plain value is returned once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100] or "token", prefix=prefix,
                                    secret_hash=_hash(secret))
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


def api_token_authenticate(raw: str) -> User | None:
    """The active user behind a presented token, or None; compares hashes in constant time."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX):].partition("_")
    token = (ApiToken.objects.select_related("user__organisation")
             .filter(prefix=prefix, revoked_at__isnull=True).first())
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Revoke one of ``user``'s tokens; True if it was active."""
    return bool(ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True)
                .update(revoked_at=timezone.now()))
