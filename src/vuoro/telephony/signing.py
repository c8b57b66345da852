"""Checking a telephony webhook's signature and timestamp. Pure: no Django.

The sender signs ``"<timestamp>.<body>"`` with HMAC-SHA256 and the shared secret and sends the
hex digest. A request older or newer than ``MAX_SKEW`` is refused so a captured request cannot
be replayed later; within the window a replay is harmless because calls are deduplicated by
their external id.
"""

import datetime as dt
import hashlib
import hmac

MAX_SKEW = dt.timedelta(minutes=5)


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def refusal(*, secret: str, timestamp: str, body: bytes, signature: str, now: dt.datetime) -> str | None:
    """Why the request must be refused (``"signature"`` or ``"stale"``), or ``None`` when it is good.

    The signature is checked first, in constant time, so an unsigned request learns nothing
    about the clock.
    """
    if not secret or not timestamp.isascii() or not signature:
        return "signature"
    if not hmac.compare_digest(sign(secret=secret, timestamp=timestamp, body=body), signature.strip().lower()):
        return "signature"
    try:
        sent = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return "stale"
    return "stale" if abs(now - sent) > MAX_SKEW else None
