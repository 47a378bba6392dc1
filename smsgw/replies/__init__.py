"""Reply texts in Russian, Kazakh and English, and their rendering with facts.

render("pay.started", Language.RU, zone="1001", plate="A123BC77", end=end,
       amount=Money(12050, "RUB"), balance=Money(0, "RUB"))
"""

from __future__ import annotations

from smsgw.replies.catalogue import MULTIPART_OK, REPLY_KEYS, SHARED_REPLY_FACTS
from smsgw.replies.formatting import format_money, format_time
from smsgw.replies.render import (
    CATALOGUE,
    MissingReplyFactError,
    ReplyError,
    UnknownReplyKeyError,
    UnshowableReplyFactError,
    render,
    template_texts,
)

__all__ = [
    "CATALOGUE",
    "MULTIPART_OK",
    "REPLY_KEYS",
    "SHARED_REPLY_FACTS",
    "MissingReplyFactError",
    "ReplyError",
    "UnknownReplyKeyError",
    "UnshowableReplyFactError",
    "format_money",
    "format_time",
    "render",
    "template_texts",
]
