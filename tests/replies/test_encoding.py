"""Every reply, in every language, through the encoder and the segmenter the SMPP links
use: English stays in GSM 03.38 (160 characters a part, not UCS-2's 70), and no reply
grows past the parts it is allowed. A reply that silently turned UCS-2 or three parts
fails here, with its text."""

from __future__ import annotations

import pytest

from smsgw.domain.money import Money
from smsgw.language import Language
from smsgw.replies import MULTIPART_OK, REPLY_KEYS, render
from smsgw.smpp.segmentation import segment_count
from smsgw.smpp.text import Encoding, choose_encoding

from .samples import SAMPLE_FACTS

# facts that quote the driver's own text back: an English reply to a Cyrillic letter
# carries that letter, whatever the template is written in
DRIVER_TEXT_FACTS = {"parse.plate_letter": "letter", "parse.bad_plate": "plate"}
# the KZT twin of every sample: ₸ amounts, a Kazakh zone and plate
KZT_SAMPLES = {
    key: {
        name: Money(value.minor, "KZT") if isinstance(value, Money) else value
        for name, value in facts.items()
    }
    for key, facts in SAMPLE_FACTS.items()
}


def _parts(text: str) -> int:
    return segment_count(text)


@pytest.mark.parametrize("samples", [SAMPLE_FACTS, KZT_SAMPLES], ids=["RUB", "KZT"])
@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("key", sorted(REPLY_KEYS))
def test_every_reply_keeps_its_alphabet_and_part_count(
    key: str, language: Language, samples: dict[str, dict[str, object]]
) -> None:
    text = render(key, language, **samples[key])
    allowed = 2 if key in MULTIPART_OK else 1
    assert _parts(text) <= allowed, f"{_parts(text)} parts ({len(text)} chars): {text}"
    if language is Language.EN:
        quoted = DRIVER_TEXT_FACTS.get(key)
        template_only = text.replace(str(samples[key][quoted]), "") if quoted else text
        assert choose_encoding(template_only) is Encoding.GSM7, text


@pytest.mark.parametrize("key", sorted(MULTIPART_OK))
def test_english_multipart_replies_mostly_fit_one_gsm_sms(key: str) -> None:
    # only lists (status, ambiguity) and help may need a second GSM part in English
    text = render(key, Language.EN, **SAMPLE_FACTS[key])
    lists = {"status.sessions", "extend.ambiguous", "stop.ambiguous", "help.text"}
    assert _parts(text) <= (2 if key in lists else 1), text


def test_english_money_has_no_currency_sign() -> None:
    text = render("pay.started", Language.EN, **SAMPLE_FACTS["pay.started"])
    assert "1234.50 RUB" in text and "₽" not in text
