"""Rendering: facts by type, clear errors for missing keys and facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.domain.money import Money
from smsgw.language import Language
from smsgw.replies import (
    MissingReplyFactError,
    UnknownReplyKeyError,
    UnshowableReplyFactError,
    format_money,
    format_time,
    render,
)

ALMATY = timezone(timedelta(hours=5), "ALMT")
MOSCOW = timezone(timedelta(hours=3), "MSK")


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Money(12050, "RUB"), "120,50 ₽"),
        (Money(12000, "RUB"), "120 ₽"),
        (Money(123450, "RUB"), "1 234,50 ₽"),
        (Money(5, "RUB"), "0,05 ₽"),
        (Money(0, "RUB"), "0 ₽"),
        (Money(1499900, "RUB"), "14 999 ₽"),
        (Money(10000000, "RUB"), "100 000 ₽"),
        (Money(-1050, "RUB"), "-10,50 ₽"),
        (Money(10000, "KZT"), "100 ₸"),
        (Money(150000, "KZT"), "1 500 ₸"),
        (Money(999, "USD"), "9,99 $"),
        (Money(100, "GBP"), "1 GBP"),
    ],
)
def test_format_money_in_russian_and_kazakh(amount: Money, shown: str) -> None:
    assert format_money(amount, Language.RU) == shown
    assert format_money(amount, Language.KK) == shown


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Money(12050, "RUB"), "120.50 RUB"),
        (Money(12000, "RUB"), "120 RUB"),
        (Money(150000, "KZT"), "1500 KZT"),
        (Money(7167, "KZT"), "71.67 KZT"),
        (Money(-1050, "RUB"), "-10.50 RUB"),
    ],
)
def test_format_money_in_english_uses_the_code_not_the_sign(amount: Money, shown: str) -> None:
    assert format_money(amount, Language.EN) == shown


@settings(max_examples=200)
@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_money_text_reads_back_as_the_same_amount(minor: int) -> None:
    shown = format_money(Money(minor, "RUB")).removesuffix(" ₽").replace(" ", "")
    major, _, fraction = shown.partition(",")
    value = abs(int(major)) * 100 + int(fraction or "0")
    assert (-value if shown.startswith("-") else value) == minor


def test_format_time_is_local_to_the_moment_zone() -> None:
    end = datetime(2024, 5, 14, 18, 30, tzinfo=ALMATY)
    assert format_time(end) == "18:30"
    assert format_time(end.astimezone(MOSCOW)) == "16:30"


def test_format_time_shows_the_date_when_not_today() -> None:
    end = datetime(2024, 5, 15, 0, 30, tzinfo=ALMATY)
    same_local_day = datetime(2024, 5, 14, 20, 0, tzinfo=UTC)  # 01:00 on the 15th in Almaty
    assert format_time(end, now=same_local_day) == "00:30"
    assert format_time(end, now=datetime(2024, 5, 14, 18, 0, tzinfo=ALMATY)) == "15.05 00:30"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2024, 5, 14, 18, 30))
    with pytest.raises(UnshowableReplyFactError, match="end"):
        render("session.ended", Language.EN, plate="A1", zone="1", end=datetime(2024, 5, 14))


def test_render_fills_facts_by_type() -> None:
    text = render(
        "pay.started",
        Language.EN,
        zone="1001",
        plate="A123BC77",
        end=datetime(2024, 5, 14, 18, 30, tzinfo=MOSCOW),
        amount=Money(12050, "RUB"),
        balance=Money(0, "RUB"),
    )
    assert text == "Parking 1001 A123BC77 until 18:30. Paid 120.50 RUB. Parking account 0 RUB"


def test_render_uses_now_for_the_date() -> None:
    end = datetime(2024, 5, 15, 9, 0, tzinfo=MOSCOW)
    now = datetime(2024, 5, 14, 23, 0, tzinfo=MOSCOW)
    text = render("session.ended", Language.RU, plate="A123BC77", zone="1001", end=end, now=now)
    assert text == "Парковка 1001 A123BC77 закончилась в 15.05 09:00"


def test_language_fact_is_named_in_the_reply_language() -> None:
    assert render("language.set", Language.KK, language=Language.KK) == "Жауап тілі: қазақ тілі"
    assert render("language.set", Language.RU, language=Language.EN) == "Язык ответов: английский"
    assert render("language.set", Language.EN, language=Language.RU) == "Reply language: Russian"


def test_plates_are_listed() -> None:
    text = render("stop.ambiguous", Language.EN, plates=["A123BC77", "B456CE77"], example="S*X")
    assert "A123BC77, B456CE77" in text


def test_sessions_accept_tuples_mappings_and_objects() -> None:
    end = datetime(2024, 5, 14, 18, 30, tzinfo=MOSCOW)

    class Session:
        plate = "C789EK77"
        zone = "3601"

        def __init__(self) -> None:
            self.end = end

    sessions = [("A123BC77", "1001", end), {"plate": "B456CE77", "zone": "1002", "end": end}]
    text = render(
        "status.sessions", Language.EN, sessions=[*sessions, Session()], balance=Money(0, "RUB")
    )
    assert text == (
        "Parking: 1001 A123BC77 until 18:30; 1002 B456CE77 until 18:30;"
        " 3601 C789EK77 until 18:30. Parking account 0 RUB"
    )


def test_a_session_without_its_facts_is_refused() -> None:
    with pytest.raises(UnshowableReplyFactError, match="plate, zone and end"):
        render("status.sessions", Language.EN, sessions=[("A1", "1")], balance=Money(0, "RUB"))


def test_optional_fact_picks_the_fuller_text() -> None:
    with_number = render("help.text", Language.EN, short_number="7757")
    without = render("help.text", Language.EN)
    assert "7757" in with_number
    assert "7757" not in without


def test_unknown_key_raises_naming_it() -> None:
    with pytest.raises(UnknownReplyKeyError, match=r"pay\.nonsense"):
        render("pay.nonsense", Language.RU)


def test_missing_fact_raises_naming_it() -> None:
    with pytest.raises(MissingReplyFactError, match=r"pay\.started.*balance"):
        render(
            "pay.started",
            Language.RU,
            zone="1",
            plate="A1",
            end=datetime(2024, 5, 14, tzinfo=UTC),
            amount=1,
        )


def test_unshowable_fact_raises() -> None:
    with pytest.raises(UnshowableReplyFactError, match="zone"):
        render("zone.unknown", Language.EN, zone=object(), example="1001*A123BC77*2")
    with pytest.raises(UnshowableReplyFactError, match="now"):
        render("zone.unknown", Language.EN, zone="1", example="1001*A123BC77*2", now="today")


def test_extra_facts_are_ignored() -> None:
    assert render("error.temporary", Language.EN, zone="1001") == render(
        "error.temporary", Language.EN
    )


def test_language_may_be_given_as_its_code() -> None:
    assert render("error.temporary", Language("kk")) == render("error.temporary", Language.KK)
