from __future__ import annotations

import logging
from collections.abc import Iterator

import orjson
import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from smsgw.observability import (
    CHARGE_STAGES,
    Metrics,
    configure_logging,
    drop_message_text,
    mask_msisdn,
    mask_phone_fields,
)


@pytest.mark.parametrize(
    ("msisdn", "masked"),
    [
        ("79031234567", "7903***4567"),
        ("+79031234567", "+7903***4567"),
        ("77011234567", "7701***4567"),
        ("9031234567", "903***567"),
        ("1234567", "12***67"),
        ("7757", "7757"),
        ("7701", "7701"),
        ("123456", "123456"),
        ("", ""),
        ("7903***4567", "7903***4567"),
    ],
)
def test_mask_msisdn_table(msisdn: str, masked: str) -> None:
    assert mask_msisdn(msisdn) == masked


@settings(max_examples=200)
@given(st.text(alphabet="0123456789", min_size=7, max_size=20))
def test_mask_hides_at_least_three_digits_and_keeps_the_edges(digits: str) -> None:
    masked = mask_msisdn(digits)
    head, _, tail = masked.partition("***")
    assert head and tail and len(head) == len(tail) <= 4
    assert digits.startswith(head) and digits.endswith(tail)
    assert len(digits) - len(head) - len(tail) >= 3
    assert mask_msisdn(masked) == masked  # masking twice changes nothing


def test_processors_mask_phone_keys_and_drop_text() -> None:
    event = {"event": "mo", "sender": "79031234567", "receiver": "7757", "text": "1001*A1"}
    event = dict(mask_phone_fields(None, "info", event))
    event = dict(drop_message_text(None, "info", event))
    assert event == {
        "event": "mo",
        "sender": "7903***4567",
        "receiver": "7757",
        "text": "<7 chars>",
    }


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def _json_lines(text: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


def test_configure_logging_writes_masked_json_with_utc_time(
    capfdbinary: pytest.CaptureFixture[bytes], restore_logging: None
) -> None:
    configure_logging("info", json=True)
    log = structlog.get_logger("test")
    log.debug("hidden")
    log.info("mo.received", sender="79031234567", text="1001*A123BC77*2")
    secret_local = "79039999999"  # noqa: F841  (a local the traceback must not show)
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    logging.getLogger("aiohttp.server").warning("from the standard library")
    lines = _json_lines(capfdbinary.readouterr().out.decode())
    assert [line["event"] for line in lines] == [
        "mo.received",
        "failed",
        "from the standard library",
    ]
    first = lines[0]
    assert first["sender"] == "7903***4567"
    assert first["text"] == "<15 chars>"
    assert isinstance(first["timestamp"], str) and first["timestamp"].endswith("Z")
    assert "exception" in lines[1]
    assert b"79039999999" not in orjson.dumps(lines[1])
    assert lines[2]["level"] == "warning"


def test_message_text_is_kept_when_asked(
    capfdbinary: pytest.CaptureFixture[bytes], restore_logging: None
) -> None:
    configure_logging("debug", json=True, log_message_text=True)
    structlog.get_logger("test").debug("mo", text="I")
    (line,) = _json_lines(capfdbinary.readouterr().out.decode())
    assert line["text"] == "I"


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    result = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            result[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return result


def test_metrics_render_every_collector() -> None:
    metrics = Metrics()
    metrics.mo_received.labels(link="mts-1", operator="mts").inc()
    metrics.mt_sent.labels(operator="mts", result="sent").inc(2)
    metrics.command_outcomes.labels(command="pay", outcome="started").inc()
    for stage in CHARGE_STAGES:
        metrics.count_charge("mts", stage)
    metrics.mo_to_reply_seconds.observe(0.2)
    metrics.charge_confirmation_seconds.observe(42)
    metrics.set_link_up("mts-1", True)
    samples = _samples(metrics)
    assert samples[("mo_received_total", (("link", "mts-1"), ("operator", "mts")))] == 1
    assert samples[("mt_sent_total", (("operator", "mts"), ("result", "sent")))] == 2
    assert samples[("command_outcomes_total", (("command", "pay"), ("outcome", "started")))] == 1
    for stage in CHARGE_STAGES:
        assert samples[("charge_funnel_total", (("operator", "mts"), ("stage", stage)))] == 1
    assert samples[("mo_to_reply_seconds_count", ())] == 1
    assert samples[("charge_confirmation_seconds_sum", ())] == 42
    assert samples[("link_up", (("link", "mts-1"),))] == 1
    metrics.set_link_up("mts-1", False)
    assert _samples(metrics)[("link_up", (("link", "mts-1"),))] == 0


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.mo_received.labels(link="a", operator="mts").inc()
    assert ("mo_received_total", (("link", "a"), ("operator", "mts"))) in _samples(first)
    assert ("mo_received_total", (("link", "a"), ("operator", "mts"))) not in _samples(second)


def test_unknown_charge_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown charge stage"):
        Metrics().count_charge("mts", "paid")
