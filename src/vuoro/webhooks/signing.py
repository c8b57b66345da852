"""The signature scheme shared by outbound deliveries and inbound hand-off updates (pure).

``X-Vuoro-Signature`` is the hex HMAC-SHA256 of ``"<timestamp>.<body>"`` with the shared
secret; ``X-Vuoro-Timestamp`` is Unix seconds. A receiver checks both, so a captured request
cannot be replayed after ``MAX_SKEW_SECONDS``.
"""

import hashlib
import hmac

MAX_SKEW_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float) -> bool:
    """True when the signature matches and the timestamp is within five minutes of ``now``."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - stamp) > MAX_SKEW_SECONDS or not secret:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature or "")
