"""HMAC-SHA256 signatures of the operator charging protocol (docs/operator-charging.md).

Both directions sign the same way: the hex HMAC-SHA256, keyed with the operator's
shared secret, of `timestamp + "." + raw body`, sent as

    X-Smsgw-Timestamp: 1767225600
    X-Smsgw-Signature: sha256=<64 hex digits>

The timestamp is inside the signed bytes so a captured signature cannot be replayed at
another time, and the raw body is signed (never a re-serialised one) so neither side
needs to canonicalise JSON.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

SIGNATURE_HEADER = "X-Smsgw-Signature"
TIMESTAMP_HEADER = "X-Smsgw-Timestamp"
SCHEME = "sha256="


def signed_bytes(timestamp: str, body: bytes) -> bytes:
    """What the HMAC covers. `surrogatepass`: any header text encodes, so `verify` on
    hostile input answers False instead of raising."""
    return timestamp.encode("utf-8", "surrogatepass") + b"." + body


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The `X-Smsgw-Signature` header value: "sha256=" and the lower-case hex digest."""
    digest = hmac.new(secret, signed_bytes(timestamp, body), hashlib.sha256).hexdigest()
    return SCHEME + digest


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """True when `signature` (a header value) signs `timestamp` and `body`.

    Compared in constant time, so the answer's timing tells an attacker nothing about
    how many leading characters were right. Upper-case hex is accepted too."""
    expected = sign(secret, timestamp, body).encode("ascii")
    given = signature.strip().lower().encode("utf-8", "surrogatepass")
    return hmac.compare_digest(expected, given)


def unix_timestamp(now: datetime) -> str:
    """The `X-Smsgw-Timestamp` value for `now`: whole seconds since the epoch."""
    if now.tzinfo is None:
        raise ValueError("a signing time must be timezone-aware")
    return str(int(now.timestamp()))


def signature_headers(secret: bytes, timestamp: str, body: bytes) -> dict[str, str]:
    """The two headers that authenticate a request or a callback."""
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


def secret_bytes(secret: bytes | str) -> bytes:
    """Configuration holds secrets as text; the HMAC wants their UTF-8 bytes."""
    return secret.encode("utf-8") if isinstance(secret, str) else secret
