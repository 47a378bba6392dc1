"""Cheap clean-up of what phones actually send, before the grammar sees it.

Old handsets and keyboard apps send full-width or decorative asterisks (`＊`, `✱`),
non-breaking and zero-width spaces, a trailing newline or full stop, quotes copied
from a web page around the command. None of that is the driver's intent, so it is
removed here with one table lookup and one Unicode normalisation, which keeps the
grammar about the language itself.
"""

from __future__ import annotations

import unicodedata

# asterisk-like and hash-like characters that NFKC leaves alone
_SEPARATOR_LOOKALIKES = {
    "∗": "*",  # asterisk operator
    "⁎": "*",  # low asterisk
    "✱": "*",  # heavy asterisk
    "✲": "*",
    "✳": "*",
    "✻": "*",
    "✼": "*",
    "❋": "*",
    "⚹": "*",
    "⋆": "*",  # star operator
    "٭": "*",  # Arabic five-pointed star
    "♯": "#",  # music sharp
}
# invisible characters keyboards insert and SMSCs pad with
_INVISIBLE = "\x00\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff"
_TABLE = str.maketrans({**_SEPARATOR_LOOKALIKES, **dict.fromkeys(_INVISIBLE)})
# every character str.isspace() accepts (the last is U+3000, the ideographic space)
_WHITESPACE = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())
# quotes around a command copied from a page, a leading phone-number `+`, a sentence's
# full stop; one strip per end removes them together with whitespace, so it is idempotent
_QUOTES = "\"'«»“”„‟`"
_LEADING_NOISE = _WHITESPACE + _QUOTES + "+"
_TRAILING_NOISE = _WHITESPACE + _QUOTES + "."


def normalise_text(text: str) -> str:
    """The text with look-alike separators unified and outer noise removed. Idempotent."""
    cleaned = unicodedata.normalize("NFKC", text.translate(_TABLE))
    return cleaned.lstrip(_LEADING_NOISE).rstrip(_TRAILING_NOISE)
