"""What the driver API stores: sign-in codes, signed-in sessions, saved plates' counts.

Plain records the `Tx` port speaks in (smsgw/service/store_port.py); the rules that make
and check them are in smsgw/service/driver_auth.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DriverCode:
    """A one-time sign-in code as stored: never the code, only its HMAC (`code_mac`)."""

    id: str
    msisdn: str
    source: str  # HMAC of the client address that asked (the per-address limit)
    code_mac: str
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    used_at: datetime | None = None

    def usable(self, now: datetime, max_attempts: int) -> bool:
        """Not used, not expired, and not dead from wrong tries."""
        return self.used_at is None and now < self.expires_at and self.attempts < max_attempts


@dataclass(frozen=True, slots=True)
class CodeCounts:
    """How many codes were sent lately, for the send limits."""

    phone_since: int  # to this phone since the window's start
    source_since: int  # to anyone, asked from this address, since the window's start
    phone_oldest: datetime | None  # the phone's first code in the window
    phone_latest: datetime | None  # when this phone's latest code was sent
    source_oldest: datetime | None  # the address's first code in the window


@dataclass(frozen=True, slots=True)
class DriverSession:
    """A sign-in: a token names it; revoking it (sign-out) kills the token at once."""

    id: str
    msisdn: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at
