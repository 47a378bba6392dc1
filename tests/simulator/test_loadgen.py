"""The load generator: its mix, the texts it sends, how it reads replies, its report, and
one tiny `smsgw bench` run through a real gateway process."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.bench.driver import PhoneReassembler
from simulator.bench.tally import percentiles_ms
from simulator.bench.texts import (
    COMMANDS,
    UNRECOGNISED,
    Mix,
    MixError,
    PlateMaker,
    ReplyClassifier,
    TextMaker,
    padded_variants,
)
from smsgw.commands import Extend, ParseError, Pay, Status, Stop, parse_command
from smsgw.language import Language
from smsgw.replies import render
from smsgw.replies.render import template_texts
from smsgw.smpp.reassembly import Reassembler, read_user_data
from smsgw.smpp.segmentation import segment
from smsgw.smpp.text import decode_text
from tests.replies.samples import SAMPLE_FACTS

# --- the mix -------------------------------------------------------------------------------


def test_mix_reads_weights_and_leaves_the_rest_at_zero() -> None:
    mix = Mix.parse("pay=3, status=1")
    assert mix.as_dict() == {"pay": 0.75, "status": 0.25}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("pay=1,lunch=2", "lunch"),
        ("pay", "pay"),
        ("pay=x", "pay"),
        ("pay=-1", "pay"),
        ("pay=1,pay=2", "pay"),
        ("status=0", "at least one"),
        ("pay=inf", "pay"),
    ],
)
def test_a_bad_mix_says_which_part(text: str, named: str) -> None:
    with pytest.raises(MixError, match=named):
        Mix.parse(text)


@settings(max_examples=200)
@given(
    weights=st.lists(st.integers(0, 5), min_size=len(COMMANDS), max_size=len(COMMANDS)),
    allowed=st.sets(st.sampled_from(COMMANDS)),
    seed=st.integers(0, 2**32),
)
def test_the_mix_only_draws_allowed_commands_with_weight(
    weights: list[int], allowed: set[str], seed: int
) -> None:
    text = ",".join(f"{name}={weight}" for name, weight in zip(COMMANDS, weights, strict=True))
    if not any(weights):
        return
    mix = Mix.parse(text)
    chosen = mix.choose(frozenset(allowed), random.Random(seed))
    weighted = {name for name, weight in zip(COMMANDS, weights, strict=True) if weight}
    if weighted & allowed:
        assert chosen in weighted & allowed
    else:
        assert chosen is None


# --- the texts the phones send ------------------------------------------------------------


@settings(max_examples=200)
@given(seed=st.integers(0, 2**32), skip=st.integers(0, 5_000_000))
def test_every_text_parses_to_the_command_meant(seed: int, skip: int) -> None:
    rng = random.Random(seed)
    plates = PlateMaker(rng, first=skip)
    texts = TextMaker("1001", 24, rng, plates)
    plate = plates.next()
    hours = rng.randint(1, 2)
    assert parse_command(texts.pay(plate, hours)) == Pay("1001", plate, hours)
    assert parse_command(texts.extend(plate, 1)) == Extend(1, plate)
    assert parse_command(texts.stop(plate)) == Stop(plate)
    assert parse_command(texts.status()) == Status()


def test_plates_are_never_repeated() -> None:
    plates = PlateMaker(random.Random(1))
    made = [plates.next() for _ in range(30_000)]
    assert len(set(made)) == len(made)


@settings(max_examples=200)
@given(seed=st.integers(0, 2**32))
def test_bad_texts_are_refused_or_name_an_unknown_zone(seed: int) -> None:
    rng = random.Random(seed)
    texts = TextMaker("1001", 24, rng, PlateMaker(rng))
    for _ in range(7):  # every kind of mistake once
        parsed = parse_command(texts.bad())
        assert isinstance(parsed, ParseError) or (isinstance(parsed, Pay) and parsed.zone != "1001")


@settings(max_examples=200)
@given(
    text=st.sampled_from(["I", "й", "X*1*A123BC77", "1001#а123вс77#2", "c*A123BC77", "LANG*F"]),
    count=st.integers(1, 60),
)
def test_padding_makes_distinct_texts_the_gateway_reads_alike(text: str, count: int) -> None:
    variants = [variant for _, variant in zip(range(count), padded_variants(text), strict=False)]
    assert variants[0] == text
    assert len(set(variants)) == count
    assert all(variant.strip(" ") == text for variant in variants)
    assert parse_command(variants[-1]) == parse_command(text)


# --- reading replies -----------------------------------------------------------------------


@pytest.mark.parametrize("language", list(Language))
def test_every_reply_is_recognised_by_its_key(language: Language) -> None:
    classifier = ReplyClassifier(language)
    for key, facts in SAMPLE_FACTS.items():
        text = render(key, language, **facts)
        found = classifier.key_of(text)
        # two keys may share one text (the "which plate?" of extend and stop)
        assert template_texts(found, language) == template_texts(key, language), (key, text)


def test_a_text_that_is_no_reply_is_unrecognised() -> None:
    assert ReplyClassifier(Language.RU).key_of("Ваш код: 1234") == UNRECOGNISED


def _delivered(reassembler: Reassembler, text: str, times: int) -> list[str]:
    """What a phone shows after the same long text arrives `times` times, each under
    reference 7 (the gateway's 8-bit reference come round)."""
    shown = []
    for _ in range(times):
        for part in segment(text, reference=7):
            data = read_user_data(part.short_message, udhi=part.esm_class_udhi)
            assert data.concat is not None
            whole = reassembler.add_concat("mts", "7757", "79001234567", data.concat, data.body, 0)
            if whole is not None:
                shown.append(decode_text(whole, part.data_coding))
    return shown


def test_a_phone_shows_a_repeated_long_reply_every_time() -> None:
    status = (
        "Парковки: O080AA77 1001 до 08:46; T029AA77 1001 до 09:46; Y124AA77 1001 до 09:46."
        " Баланс 0 ₽"
    )
    assert len(segment(status, reference=7)) == 2
    assert _delivered(Reassembler(), status, 2) == [status], "the MO reassembler drops it"
    phone = PhoneReassembler()
    assert _delivered(phone, status, 3) == [status] * 3
    assert phone.repeats == 4  # two parts, twice again


# --- the figures ---------------------------------------------------------------------------


@settings(max_examples=200)
@given(st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=300))
def test_percentiles_are_nearest_rank(samples: list[float]) -> None:
    shown = percentiles_ms(samples)
    ordered = sorted(samples)
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        value = shown[name]
        assert value is not None
        at_or_below = sum(1 for sample in ordered if round(sample * 1000, 2) <= value)
        assert at_or_below >= fraction * len(ordered)
        below = sum(1 for sample in ordered if round(sample * 1000, 2) < value)
        assert below < fraction * len(ordered)
    assert shown["max"] == round(ordered[-1] * 1000, 2)
    assert shown["samples"] == len(samples)


def test_no_samples_no_percentiles() -> None:
    assert percentiles_ms([])["p99"] is None


# --- a whole run ---------------------------------------------------------------------------

REPORT_FIELDS = {
    "phones",
    "mode",
    "target_rate",
    "duration_s",
    "warmup_s",
    "mix",
    "mo_sent",
    "mo_per_s",
    "replies",
    "replies_per_s",
    "completed",
    "completed_per_s",
    "paid_sessions",
    "paid_sessions_per_s",
    "latency_ms",
    "paid_session_latency_ms",
    "lost",
    "lost_examples",
    "duplicated",
    "refused",
    "skipped",
    "unsolicited",
    "unrecognised",
    "mo_retries",
    "repeated_parts",
    "totals",
    "sent_by_command",
    "replies_by_key",
    "loadgen_cpu_per_s",
    "loadgen_gc",
    "storage",
    "gateway",
}


def test_a_tiny_bench_through_a_real_gateway_loses_and_repeats_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "smsgw.cli",
            "bench",
            "--phones",
            "20",
            "--duration",
            "1",
            "--warmup",
            "0.25",
            "--grace",
            "5",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert set(report) == REPORT_FIELDS
    assert report["lost"] == 0 and report["duplicated"] == 0 and report["refused"] == 0
    totals = report["totals"]
    assert totals["mo_sent"] > 0 and totals["completed"] == totals["mo_sent"]
    assert totals["paid_sessions"] > 0, "payments went the whole way through the operator"
    assert report["unrecognised"] == 0
    assert set(report["sent_by_command"]) == set(COMMANDS)
    for latency in (report["latency_ms"], report["paid_session_latency_ms"]):
        assert set(latency) == {"p50", "p95", "p99", "max", "samples"}
        assert latency["samples"] > 0 and latency["p50"] <= latency["p99"] <= latency["max"]
    assert report["gateway"]["exit_code"] == 0 and report["gateway"]["warnings"] == 0
    assert report["storage"] == "sqlite"
    assert not list(tmp_path.iterdir()), "the bench writes nowhere but its temporary directory"
