"""Signing drivers in (docs/driver-api.md): one-time codes texted through the phone's
operator, signed tokens that name a revocable session, and CSRF values for the cabinet.

Everything secret is an HMAC-SHA256 under `[driver] secret`, each use with its own label
so one value can never stand for another: a stored code is only `code|id|phone|code`'s
MAC, a client address only `source|address`'s, a token carries its session id and
expiry with `token|...`'s MAC, and a session's CSRF value is `csrf|session`'s MAC. Every
comparison of a secret is constant-time (`hmac.compare_digest`).

A code goes out as any reply does: queued in the outbox in the unit that stores it, to
the phone's operator (the one it last texted through, else the operators' number
prefixes). Requesting a code creates no phone: the answer and the stored rows are the
same whether or not the phone ever texted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from smsgw.domain.tariffs import as_utc
from smsgw.language import Language
from smsgw.service.driver_records import CodeCounts, DriverCode, DriverSession
from smsgw.service.runner import Moment, Ran, UnitRunner
from smsgw.service.settings import Deployment
from smsgw.service.store_port import Tx
from smsgw.service.unit import Unit

log = structlog.get_logger(__name__)

CODE_DIGITS = 6
# the send limits count codes over this window ("5 per hour")
LIMIT_WINDOW = timedelta(hours=1)
TOKEN_VERSION = "v1"
# a token is four short parts; anything much longer is not one of ours
MAX_TOKEN_CHARS = 256
CODE_REPLY_KEY = "driver.code"


@dataclass(frozen=True, slots=True)
class DriverAuthPolicy:
    """The `[driver]` settings sign-in needs."""

    secret: bytes
    code_ttl: timedelta = timedelta(seconds=300)
    token_ttl: timedelta = timedelta(hours=720)
    resend_after: timedelta = timedelta(seconds=60)
    codes_per_phone_per_hour: int = 5
    codes_per_source_per_hour: int = 20
    code_attempts: int = 5


# --- what asking for a code can come to -------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeSent:
    expires_in: int  # seconds
    resend_in: int  # seconds until the phone may ask again


@dataclass(frozen=True, slots=True)
class TooManyCodes:
    retry_after: int  # seconds


@dataclass(frozen=True, slots=True)
class NoOperator:
    """No operator is known for the number: there is no link to text the code through."""


CodeOutcome = CodeSent | TooManyCodes | NoOperator


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    session_id: str
    msisdn: str
    created_at: datetime
    expires_at: datetime
    csrf: str


@dataclass(frozen=True, slots=True)
class DriverIdentity:
    """Who a valid token belongs to."""

    session_id: str
    msisdn: str


# --- the MACs ---------------------------------------------------------------------------


class DriverSigner:
    """Every MAC the driver API makes, each under its own label."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def mac(self, label: str, *parts: str) -> str:
        message = "|".join((label, *parts)).encode("utf-8")
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def code_mac(self, code_id: str, msisdn: str, code: str) -> str:
        return self.mac("code", code_id, msisdn, code)

    def source(self, address: str) -> str:
        """The client address as stored: counted per address, never kept readable."""
        return self.mac("source", address)

    def token(self, session_id: str, expires_at: datetime) -> str:
        expiry = str(int(as_utc(expires_at).timestamp()))
        signature = self.mac("token", TOKEN_VERSION, session_id, expiry)
        return f"{TOKEN_VERSION}.{session_id}.{expiry}.{signature}"

    def session_of(self, token: str, now: datetime) -> str | None:
        """The session id a token names, when its signature holds and it has not expired
        (whether the session is still live is the store's to say)."""
        parts = token.split(".") if len(token) <= MAX_TOKEN_CHARS else []
        if len(parts) != len(("version", "session", "expiry", "signature")):
            return None
        version, session_id, expiry, signature = parts
        expected = self.mac("token", version, session_id, expiry)
        if not hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode()):
            return None
        if version != TOKEN_VERSION or not expiry.isdigit():
            return None
        if datetime.fromtimestamp(int(expiry), UTC) <= now:
            return None
        return session_id

    def csrf(self, session_id: str) -> str:
        return self.mac("csrf", session_id)

    def csrf_matches(self, session_id: str, offered: str) -> bool:
        expected = self.csrf(session_id).encode()
        return hmac.compare_digest(offered.encode("utf-8", "replace"), expected)


def random_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def random_session_id() -> str:
    return secrets.token_urlsafe(18)  # 144 bits, no "." (the token's separator)


class DriverAuth:
    """Codes, sign-in, tokens and sign-out; each change is one unit of work."""

    def __init__(
        self,
        runner: UnitRunner,
        deployment: Deployment,
        policy: DriverAuthPolicy,
        *,
        new_code: Callable[[], str] = random_code,
        new_session_id: Callable[[], str] = random_session_id,
    ) -> None:
        self._runner = runner
        self._deployment = deployment
        self._policy = policy
        self._new_code = new_code
        self._new_session_id = new_session_id
        self.signer = DriverSigner(policy.secret)

    # --- codes ----------------------------------------------------------------------

    async def request_code(self, msisdn: str, address: str, language: Language) -> CodeOutcome:
        """Text the phone a fresh code, within the limits. `language` (the request's) is
        used when the phone has not chosen one by SMS."""
        code = self._new_code()  # drawn before the transaction: a retry replays it
        source = self.signer.source(address)

        async def work(tx: Tx, moment: Moment) -> Ran[CodeOutcome]:
            await tx.lock_driver_codes(msisdn)  # two requests at once: one code, not two
            counts = await tx.driver_code_counts(msisdn, source, moment.now - LIMIT_WINDOW)
            wait = self._wait(counts, moment.now)
            if wait is not None:
                return Ran(TooManyCodes(wait))
            profile = await tx.get_phone(msisdn)
            operator_id = self._deployment.operator_for(
                msisdn, profile.operator_id if profile else None
            )
            if operator_id is None:
                return Ran(NoOperator())
            unit = Unit(
                tx=tx,
                deployment=self._deployment,
                now=moment.now,
                msisdn=msisdn,
                operator_id=operator_id,
                language=(profile.language if profile else None) or language,
                cause=f"driver_code_{moment.seed}",
                seed=moment.seed,
            )
            await self._store_and_send(tx, unit, source, code)
            return Ran(self._sent(), unit)

        outcome = await self._runner.run(work)
        log.info("driver.code_requested", outcome=type(outcome).__name__)  # no number, no code
        return outcome

    async def _store_and_send(self, tx: Tx, unit: Unit, source: str, code: str) -> None:
        code_id = unit.new_id("code")
        record = DriverCode(
            id=code_id,
            msisdn=unit.msisdn,
            source=source,
            code_mac=self.signer.code_mac(code_id, unit.msisdn, code),
            created_at=unit.now,
            expires_at=unit.now + self._policy.code_ttl,
        )
        await tx.insert_driver_code(record, forget_before=unit.now - LIMIT_WINDOW)
        await unit.reply_once(f"{unit.cause}:code", CODE_REPLY_KEY, code=code)

    def _sent(self) -> CodeSent:
        return CodeSent(
            expires_in=int(self._policy.code_ttl.total_seconds()),
            resend_in=int(self._policy.resend_after.total_seconds()),
        )

    def _wait(self, counts: CodeCounts, now: datetime) -> int | None:
        """Seconds until another code may go out, or None when one may go now."""
        policy = self._policy
        waits: list[datetime] = []
        if counts.source_since >= policy.codes_per_source_per_hour and counts.source_oldest:
            waits.append(counts.source_oldest + LIMIT_WINDOW)
        if counts.phone_since >= policy.codes_per_phone_per_hour and counts.phone_oldest:
            waits.append(counts.phone_oldest + LIMIT_WINDOW)
        if counts.phone_latest is not None and now - counts.phone_latest < policy.resend_after:
            waits.append(counts.phone_latest + policy.resend_after)
        if not waits:
            return None
        return max(1, math.ceil((max(waits) - now).total_seconds()))

    # --- sign-in --------------------------------------------------------------------

    async def sign_in(self, msisdn: str, code: str) -> SignedIn | None:
        """A new session for the right code; None for any wrong, expired, used or dead
        one (the caller answers them all alike). Every try is counted, and kept when
        it fails: `code_attempts` tries and the code is dead."""
        session_id = self._new_session_id()

        async def work(tx: Tx, moment: Moment) -> Ran[SignedIn | None]:
            now = moment.now
            stored = await tx.latest_driver_code(msisdn)
            # the MAC is computed whether or not there is a code: the time taken says
            # nothing of whether this phone asked for one
            offered = self.signer.code_mac(stored.id if stored else "-", msisdn, code)
            attempts = self._policy.code_attempts
            if stored is None or not stored.usable(now, attempts):
                return Ran(None)
            # the try is counted before the comparison: the right code takes one too
            if not await tx.take_driver_code_attempt(stored.id, attempts):
                return Ran(None)
            if not hmac.compare_digest(offered.encode(), stored.code_mac.encode()):
                return Ran(None)
            if not await tx.use_driver_code(stored.id, now):
                return Ran(None)
            session = DriverSession(session_id, msisdn, now, now + self._policy.token_ttl)
            await tx.insert_driver_session(session)
            return Ran(self._signed_in(session))

        signed = await self._runner.run(work)
        log.info("driver.sign_in", signed_in=signed is not None)
        return signed

    def _signed_in(self, session: DriverSession) -> SignedIn:
        return SignedIn(
            token=self.signer.token(session.id, session.expires_at),
            session_id=session.id,
            msisdn=session.msisdn,
            created_at=session.created_at,
            expires_at=session.expires_at,
            csrf=self.signer.csrf(session.id),
        )

    async def identify(self, token: str) -> DriverIdentity | None:
        """Whose token this is: None unless it is signed by us, unexpired, and its
        session is live in the store (sign-out revokes it)."""
        now = self._runner.clock.now()
        session_id = self.signer.session_of(token, now)
        if session_id is None:
            return None
        session = await self._runner.store.transact(lambda tx: tx.get_driver_session(session_id))
        if session is None or not session.live(now):
            return None
        return DriverIdentity(session.id, session.msisdn)

    async def sign_out(self, session_id: str) -> None:
        async def work(tx: Tx, moment: Moment) -> Ran[bool]:
            return Ran(await tx.revoke_driver_session(session_id, moment.now))

        await self._runner.run(work)
