"""Every reply exists in every language, renders with its facts and fits an SMS."""

from __future__ import annotations

import re

import pytest

from smsgw.commands import PARSE_REPLY_KEYS
from smsgw.language import Language
from smsgw.replies import CATALOGUE, MULTIPART_OK, REPLY_KEYS, SHARED_REPLY_FACTS, render
from smsgw.replies.render import template_texts

from .samples import SAMPLE_FACTS

UCS2_SMS_CHARS = 70
# English replies are GSM 03.38 (see test_encoding.py)
GSM_SMS_CHARS = 160
KAZAKH_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _ucs2_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_reply_keys_are_the_shared_list_and_the_parse_keys() -> None:
    assert set(SHARED_REPLY_FACTS) | PARSE_REPLY_KEYS == REPLY_KEYS
    assert all(key.startswith("parse.") for key in PARSE_REPLY_KEYS)


@pytest.mark.parametrize("language", list(Language))
def test_every_key_exists_in_every_language(language: Language) -> None:
    assert set(CATALOGUE[language].templates) == REPLY_KEYS


def test_samples_cover_every_key() -> None:
    assert set(SAMPLE_FACTS) == REPLY_KEYS


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("key", sorted(REPLY_KEYS))
def test_every_key_renders_with_its_facts(key: str, language: Language) -> None:
    text = render(key, language, **SAMPLE_FACTS[key])
    assert text.strip() == text
    assert "{" not in text and "}" not in text


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("key", sorted(SHARED_REPLY_FACTS))
def test_texts_use_exactly_the_contract_facts(key: str, language: Language) -> None:
    required = {fact for fact in SHARED_REPLY_FACTS[key] if not fact.endswith("?")}
    optional = {fact.rstrip("?") for fact in SHARED_REPLY_FACTS[key] if fact.endswith("?")}
    used = [set(PLACEHOLDER.findall(text)) for text in template_texts(key, language)]
    named = [{name.strip("{}") for name in names} for names in used]
    # the fullest alternative uses every fact; the last needs no optional one
    assert named[0] <= required | optional
    assert required <= named[0]
    assert not named[-1] & optional


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("key", sorted(REPLY_KEYS - set(MULTIPART_OK)))
def test_common_replies_fit_one_sms(key: str, language: Language) -> None:
    text = render(key, language, **SAMPLE_FACTS[key])
    limit = GSM_SMS_CHARS if language is Language.EN else UCS2_SMS_CHARS
    assert _ucs2_length(text) <= limit, f"{len(text)} chars: {text}"


def test_multipart_keys_are_known_and_give_a_reason() -> None:
    assert set(MULTIPART_OK) <= REPLY_KEYS
    assert all(reason.strip() for reason in MULTIPART_OK.values())


@pytest.mark.parametrize("key", sorted(REPLY_KEYS))
def test_kazakh_is_kazakh_not_transliterated_russian(key: str) -> None:
    kazakh = template_texts(key, Language.KK)
    assert kazakh != template_texts(key, Language.RU)
    assert all(KAZAKH_LETTERS.search(text) for text in kazakh), kazakh


@pytest.mark.parametrize("key", sorted(REPLY_KEYS))
def test_languages_differ(key: str) -> None:
    assert template_texts(key, Language.EN) != template_texts(key, Language.RU)
