"""The reply languages a deployment and a phone can choose."""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    RU = "ru"
    KK = "kk"
    EN = "en"
