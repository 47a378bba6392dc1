"""`render(key, language, **facts)`: the reply text for a key, with its facts filled in.

Facts are shown by type: Money as the reply's language writes it (`1 234,50 ₽`,
`1234.50 RUB`), aware datetimes as zone-local `HH:MM` (with the date when it is not the
day of the optional `now` fact), a Language by its name in the reply's language, a list
of plates joined by commas, `sessions` one line each. A key or fact that is missing
raises, naming both: a reply with a hole in it must never reach a driver.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType

from smsgw.domain.money import Money
from smsgw.language import Language
from smsgw.replies.formatting import format_money, format_time
from smsgw.replies.texts import en, kk, ru


class ReplyError(LookupError):
    """A reply that cannot be rendered: a bug in the caller or in the texts."""


class UnknownReplyKeyError(ReplyError):
    pass


class MissingReplyFactError(ReplyError):
    pass


class UnshowableReplyFactError(ReplyError):
    pass


@dataclass(frozen=True, slots=True)
class Template:
    text: str
    facts: frozenset[str]


@dataclass(frozen=True, slots=True)
class LanguageTexts:
    language: Language
    templates: Mapping[str, tuple[Template, ...]]
    session_line: Template
    list_separator: str
    language_names: Mapping[Language, str]


def render(key: str, language: Language, /, **facts: object) -> str:
    """The reply for `key` in `language`. Facts the text does not use are ignored."""
    texts = CATALOGUE[Language(language)]
    template = _template_for(texts, key, facts)
    now = _reference_now(facts)
    shown = {name: _shown(key, name, facts[name], texts, now) for name in template.facts}
    return template.text.format_map(shown)


def template_texts(key: str, language: Language) -> tuple[str, ...]:
    """The raw text alternatives of a key (for checks and documentation)."""
    return tuple(template.text for template in CATALOGUE[language].templates[key])


def _template_for(texts: LanguageTexts, key: str, facts: Mapping[str, object]) -> Template:
    alternatives = texts.templates.get(key)
    if alternatives is None:
        raise UnknownReplyKeyError(f"no reply text for key {key!r} in {texts.language.value}")
    for template in alternatives:
        if template.facts <= facts.keys():
            return template
    missing = ", ".join(sorted(alternatives[-1].facts - facts.keys()))
    raise MissingReplyFactError(
        f"reply {key!r} ({texts.language.value}) needs the fact(s) {missing}"
    )


def _reference_now(facts: Mapping[str, object]) -> datetime | None:
    now = facts.get("now")
    if now is None:
        return None
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise UnshowableReplyFactError(f"the `now` fact must be an aware datetime, got {now!r}")
    return now


def _shown(key: str, name: str, value: object, texts: LanguageTexts, now: datetime | None) -> str:
    if name == "sessions" and isinstance(value, Iterable) and not isinstance(value, str):
        return texts.list_separator.join(_session_line(key, item, texts, now) for item in value)
    if isinstance(value, Money):
        return format_money(value, texts.language)
    if isinstance(value, datetime):
        try:
            return format_time(value, now)
        except ValueError as error:
            raise UnshowableReplyFactError(f"reply {key!r}, fact {name}: {error}") from error
    if isinstance(value, Language):  # before str: a Language is a str too
        return texts.language_names[value]
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Iterable):
        return ", ".join(_shown(key, name, item, texts, now) for item in value)
    raise UnshowableReplyFactError(f"reply {key!r}, fact {name}: cannot show {value!r}")


def _session_line(key: str, session: object, texts: LanguageTexts, now: datetime | None) -> str:
    """One running session: anything with plate, zone and end (a ParkingSession, a
    mapping, or a (plate, zone, end) tuple)."""
    parts = _session_parts(key, session)
    line = texts.session_line
    shown = {name: _shown(key, name, parts[name], texts, now) for name in line.facts}
    return line.text.format_map(shown)


def _session_parts(key: str, session: object) -> Mapping[str, object]:
    names = ("plate", "zone", "end")
    if isinstance(session, Mapping):
        parts: Mapping[str, object] = session
    elif isinstance(session, tuple) and len(session) == len(names):
        parts = dict(zip(names, session, strict=True))
    else:
        parts = {name: getattr(session, name, None) for name in names}
    if any(parts.get(name) is None for name in names):
        raise UnshowableReplyFactError(f"reply {key!r}: a session needs plate, zone and end")
    return parts


def _template(text: str) -> Template:
    fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return Template(text=text, facts=frozenset(fields))


def _language_texts(language: Language, module: ModuleType) -> LanguageTexts:
    templates = {
        key: tuple(_template(text) for text in ((value,) if isinstance(value, str) else value))
        for key, value in module.TEXTS.items()
    }
    return LanguageTexts(
        language=language,
        templates=templates,
        session_line=_template(module.SESSION_LINE),
        list_separator=module.LIST_SEPARATOR,
        language_names=module.LANGUAGE_NAMES,
    )


CATALOGUE: Mapping[Language, LanguageTexts] = {
    Language.RU: _language_texts(Language.RU, ru),
    Language.KK: _language_texts(Language.KK, kk),
    Language.EN: _language_texts(Language.EN, en),
}
