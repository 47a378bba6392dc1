"""How Kannel writes a get-url: every octet outside [A-Za-z0-9] percent-encoded."""

from __future__ import annotations

import string

_UNRESERVED = frozenset((string.ascii_letters + string.digits).encode())


def kannel_quote(data: bytes, *, space_as_plus: bool = False) -> str:
    parts = []
    for octet in data:
        if octet in _UNRESERVED:
            parts.append(chr(octet))
        elif octet == 0x20 and space_as_plus:
            parts.append("+")
        else:
            parts.append(f"%{octet:02X}")
    return "".join(parts)


def kannel_query(
    text: bytes,
    *,
    sender: str = "+79031234567",
    receiver: str = "7757",
    coding: str | None = None,
    charset: str | None = None,
    extra: dict[str, str] | None = None,
    space_as_plus: bool = False,
) -> str:
    fields = [("sender", sender.encode()), ("receiver", receiver.encode())]
    if coding is not None:
        fields.append(("coding", coding.encode()))
    if charset is not None:
        fields.append(("charset", charset.encode()))
    fields.extend((name, value.encode()) for name, value in (extra or {}).items())
    fields.append(("text", text))
    return "&".join(
        f"{name}={kannel_quote(value, space_as_plus=space_as_plus)}" for name, value in fields
    )
