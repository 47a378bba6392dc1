"""The operations API's questions: the inspector's plate lookup and a phone's overview."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest

from smsgw.domain.errors import UnknownZoneError
from smsgw.service.ports import ChargeOutcome

from .harness import PHONE, Harness

PLATE = "A123BC77"
MOSCOW = ZoneInfo("Europe/Moscow")


async def test_a_paid_plate_until_its_local_end(harness: Harness) -> None:
    harness.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    await harness.mo(f"1001*{PLATE}*2")
    gateway = harness.svc.messages
    status = await gateway.plate_status(PLATE, "1001", harness.clock.now())
    assert status is not None
    assert status["until"] == datetime(2026, 3, 10, 11, 0, tzinfo=MOSCOW)
    assert await gateway.plate_status(PLATE, "1003", harness.clock.now()) is None
    assert await gateway.plate_status("B456CE77", "1001", harness.clock.now()) is None
    harness.clock.advance(hours=2)
    assert await gateway.plate_status(PLATE, "1001", harness.clock.now()) is None
    with pytest.raises(UnknownZoneError):
        await gateway.plate_status(PLATE, "4242", harness.clock.now())


async def test_a_phone_overview_shows_sessions_balance_and_pending_charge(
    harness: Harness,
) -> None:
    harness.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    await harness.mo(f"1001*{PLATE}*2")
    harness.charging["mts"].request_default = ChargeOutcome.ACCEPTED
    await harness.mo("1001*B456CE77*1")

    overview = await harness.svc.messages.phone_overview(PHONE)

    assert overview["operator"] == "mts"
    sessions = overview["sessions"]
    assert isinstance(sessions, list) and len(sessions) == 1
    assert sessions[0]["plate"] == PLATE and sessions[0]["end"].hour == 11
    balances = overview["balances"]
    assert isinstance(balances, list) and {"minor": 0, "currency": "RUB"} in balances
    pending = overview["pending_charge"]
    assert isinstance(pending, dict) and pending["state"] == "awaiting_confirmation"
    orjson.dumps(overview)  # what the HTTP layer does with it
    unknown = await harness.svc.messages.phone_overview("79990001122")
    assert unknown["known"] is False and unknown["sessions"] == []


async def test_ready_follows_the_store(harness: Harness) -> None:
    assert await harness.svc.messages.ready()
    await harness.db.close()
    assert not await harness.svc.messages.ready()


def _sample(harness: Harness, name: str, **labels: str) -> float:
    value = harness.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_metrics_count_commands_charges_and_sends(harness: Harness) -> None:
    await harness.mo(f"1001*{PLATE}*2")
    await harness.callback(harness.last_charge_id())
    await harness.flush()
    await harness.mo("S*B456CE77")

    assert _sample(harness, "mo_received_total", link="mts-link", operator="mts") == 2
    assert (
        _sample(harness, "command_outcomes_total", command="pay", outcome="charge_requested") == 1
    )
    assert (
        _sample(
            harness, "command_outcomes_total", command="stop", outcome="refused:stop.no_session"
        )
        == 1
    )
    for stage in ("requested", "accepted", "confirmed", "applied"):
        assert _sample(harness, "charge_funnel_total", operator="mts", stage=stage) == 1, stage
    assert _sample(harness, "mt_sent_total", operator="mts", result="sent") == 3
    assert _sample(harness, "charge_confirmation_seconds_count") == 1


def test_the_gateway_is_what_the_http_listener_calls(harness: Harness) -> None:
    from smsgw.transport.http_app import ServiceApi

    api: ServiceApi = harness.svc.messages  # checked by mypy --strict
    assert callable(api.accept_charge_callback)
