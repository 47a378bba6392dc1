"""Masking for log lines written by libraries (aiohttp's server, access and web loggers,
asyncio), which know nothing of smsgw's structured fields.

aiohttp logs a request it cannot parse with the raw bytes it choked on: a Kannel MO's
request line holds the sender's number and the message text, its headers may hold a
bearer token. `MaskingFilter` rewrites such a record before any handler formats it:
phone numbers are masked as smsgw masks them (`mask_msisdn`), credentials and message
texts are replaced, and an exception's text and traceback are scrubbed the same way.
"""

from __future__ import annotations

import logging
import re
import traceback

from smsgw.observability import mask_msisdn

HIDDEN = "***"

# "Bearer abc", "Basic dXNlcjpwYXNz"; "Authorization: xyz" in any other scheme
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|digest)(\s+)([^\s,;'\"\\]+)")
_AUTHORIZATION = re.compile(
    r"(?i)\b(authorization)(\s*[:=]\s*)(?!(?:bearer|basic|digest)\b)([^\s,;'\"\\]+)"
)
# secret=..., password=..., token=..., api_token=... in a query, a form or a header
_CREDENTIAL_PARAMETER = re.compile(
    r"(?i)\b(secret|password|passwd|pass|token|api_token|x-smsgw-signature)"
    r"(\s*[=:]\s*|\"\s*:\s*\")([^&\s'\"\\,;]+)"
)
# text=... as Kannel sends it (raw or percent-encoded); "text": "..." in JSON
_TEXT_PARAMETER = re.compile(r"(?i)\b(text|message_text)=([^&\s'\"\\]*)")
_TEXT_JSON = re.compile(r"(?i)(\"(?:text|message_text)\"\s*:\s*\")((?:[^\"\\]|\\.)*)")
# a phone number: 7 to 15 digits, maybe with "+" or its percent-encoding in front
_PHONE = re.compile(r"(?<![0-9])(\+|%2[bB])?([0-9]{7,15})(?![0-9])")


def scrub(text: str) -> str:
    """`text` with credentials, message texts and phone numbers hidden."""
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", text)
    text = _AUTHORIZATION.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", text)
    text = _CREDENTIAL_PARAMETER.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", text)
    text = _TEXT_PARAMETER.sub(lambda m: f"{m.group(1)}=<hidden>", text)
    text = _TEXT_JSON.sub(lambda m: f"{m.group(1)}<hidden>", text)
    return _PHONE.sub(lambda m: (m.group(1) or "") + mask_msisdn(m.group(2)), text)


class MaskingFilter(logging.Filter):
    """A handler filter: every record leaves with its message and exception scrubbed."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string: keep what can be kept
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            # the exception's text often carries the raw bytes: keep a scrubbed copy of
            # the traceback in the message instead of the exception itself
            rendered = "".join(traceback.format_exception(record.exc_info[1]))
            message = f"{message}\n{rendered.rstrip()}"
            record.exc_info = None
            record.exc_text = None
        record.msg = scrub(message)
        record.args = None
        return True
