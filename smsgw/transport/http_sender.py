"""`MtSender` through Kannel's sendsms interface (`GET /cgi-bin/sendsms`).

Text the GSM alphabet can carry goes as UTF-8 with `coding=0` (Kannel packs it into
7-bit septets); anything else as `coding=2&charset=UTF-16BE` with the UTF-16BE octets
percent-encoded. Kannel splits long messages itself: give the sendsms-user a
`max-messages` at least as large as the longest reply (for example 10).

Each message asks for delivery reports (`dlr-mask=3`: delivered and failed) at a dlr-url
built from `dlr_url_template`, whose `{outbox_id}` becomes our outbox id; Kannel fills in
`%d`. That is why the outbox id serves as the message id: a report names it directly.

Answers: 2xx (Kannel says 202 "0: Accepted for delivery" or "3: Queued for later
delivery") → sent; 408, 429 and 5xx, network errors and timeouts → `SendError` (retry
later); any other 4xx (bad credentials, refused number) → `PermanentSendError`.
"""

from __future__ import annotations

from urllib.parse import quote, quote_from_bytes

import aiohttp
from yarl import URL

from smsgw.log_masking import scrub
from smsgw.service.messages import OutboundSms
from smsgw.service.ports import PermanentSendError, SendError
from smsgw.smpp.gsm7 import is_gsm7

SENDSMS_PATH = "/cgi-bin/sendsms"
OUTBOX_ID_PLACEHOLDER = "{outbox_id}"
DLR_MASK_FINAL = 3  # 1 delivered + 2 failed
TEMPORARY_CLIENT_STATUSES = frozenset({408, 429})
# enough of Kannel's answer to say why it refused
_DETAIL_BYTES = 300


def sendsms_url(base_url: str) -> str:
    """`http://kannel:13013` or the full `.../cgi-bin/sendsms` URL → the latter."""
    base = base_url.rstrip("/")
    return base if base.endswith(SENDSMS_PATH) else base + SENDSMS_PATH


def text_parameters(text: str) -> list[tuple[str, bytes]]:
    """`text`, `coding` and `charset` for Kannel: GSM text as UTF-8, the rest as UCS-2."""
    if is_gsm7(text):
        return [("text", text.encode("utf-8")), ("coding", b"0"), ("charset", b"UTF-8")]
    return [
        ("text", text.encode("utf-16-be", errors="replace")),
        ("coding", b"2"),
        ("charset", b"UTF-16BE"),
    ]


def _query(parameters: list[tuple[str, bytes]]) -> str:
    return "&".join(
        f"{quote(name, safe='')}={quote_from_bytes(value, safe='')}" for name, value in parameters
    )


class KannelSender:
    """Sends one operator's replies through a Kannel smsbox."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        smsc: str,
        session: aiohttp.ClientSession,
        dlr_url_template: str,
        *,
        timeout_seconds: float = 10.0,
    ) -> None:
        if dlr_url_template and OUTBOX_ID_PLACEHOLDER not in dlr_url_template:
            raise ValueError(f"dlr_url_template must contain {OUTBOX_ID_PLACEHOLDER}")
        self.url = sendsms_url(base_url)
        self.username = username
        self.password = password
        self.smsc = smsc
        self.session = session
        self.dlr_url_template = dlr_url_template
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    def request_url(self, sms: OutboundSms) -> URL:
        parameters: list[tuple[str, bytes]] = [
            ("username", self.username.encode("utf-8")),
            ("password", self.password.encode("utf-8")),
            ("from", sms.sender.encode("utf-8")),
            ("to", sms.receiver.encode("utf-8")),
            *text_parameters(sms.text),
        ]
        if self.smsc:
            parameters.append(("smsc", self.smsc.encode("utf-8")))
        if self.dlr_url_template:
            dlr_url = self.dlr_url_template.replace(
                OUTBOX_ID_PLACEHOLDER, quote(sms.outbox_id, safe="")
            )
            parameters += [
                ("dlr-mask", str(DLR_MASK_FINAL).encode()),
                ("dlr-url", dlr_url.encode()),
            ]
        # already percent-encoded: yarl must not encode the octets a second time
        return URL(f"{self.url}?{_query(parameters)}", encoded=True)

    async def send(self, sms: OutboundSms) -> str:
        try:
            async with self.session.get(self.request_url(sms), timeout=self.timeout) as response:
                status = response.status
                detail = (await response.content.read(_DETAIL_BYTES)).decode("utf-8", "replace")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SendError(f"Kannel did not answer: {self._describe(error)}") from error
        if 200 <= status < 300:
            return sms.outbox_id
        message = f"Kannel answered {status}: {detail.strip()}"
        if 400 <= status < 500 and status not in TEMPORARY_CLIENT_STATUSES:
            raise PermanentSendError(message)
        raise SendError(message)

    def _describe(self, error: BaseException) -> str:
        # the request URL carries the password and the dlr-url's link secret; no error
        # text may show them
        text = f"{type(error).__name__}: {error}"
        text = text.replace(self.password, "***") if self.password else text
        return scrub(text)
