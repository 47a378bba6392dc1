"""Timers driven with fake ``now``: enquire_link, response timeouts, inactivity."""

from __future__ import annotations

import pytest

from smsgw.smpp.events import (
    BindFailed,
    BindState,
    LinkDead,
    RequestTimedOut,
    ResponseReceived,
    Unbound,
    UnmatchedResponse,
)
from smsgw.smpp.pdu import EnquireLink, SubmitSm
from smsgw.smpp.session import SessionConfig
from tests.smpp.helpers import SessionPair, pdus_in

CONFIG = SessionConfig(
    window_size=5, response_timeout=10.0, enquire_link_interval=30.0, inactivity_timeout=100.0
)


@pytest.fixture
def pair() -> SessionPair:
    pair = SessionPair(config=CONFIG)
    pair.bind()
    return pair


def test_enquire_link_is_sent_after_the_idle_interval(pair: SessionPair) -> None:
    assert pair.esme.get_timer() == 30.0
    assert pair.esme.handle_timer(29.9) == []
    assert pair.esme.data_to_send() == b""
    assert pair.esme.handle_timer(30.0) == []
    data = pair.esme.data_to_send()
    (sent,) = pdus_in(data)
    assert isinstance(sent, EnquireLink)
    # Waiting for its answer, the next deadline is the response timeout.
    assert pair.esme.get_timer() == 40.0
    assert pair.smsc.receive_data(data, 31.0) == [], "answered automatically"
    events = pair.to_esme(now=32.0)
    assert len(events) == 1 and isinstance(events[0], ResponseReceived)
    # Idle counts from the last PDU received.
    assert pair.esme.get_timer() == 62.0


def test_traffic_from_the_peer_postpones_enquire_link(pair: SessionPair) -> None:
    pair.smsc.enquire_link(20.0)
    pair.to_esme(now=20.0)
    assert pair.esme.get_timer() == 50.0
    assert pair.esme.handle_timer(30.0) == []
    assert pdus_in(pair.esme.data_to_send())[0].command_id.name == "ENQUIRE_LINK_RESP"


def test_unanswered_enquire_link_means_link_dead(pair: SessionPair) -> None:
    pair.esme.handle_timer(30.0)
    pair.esme.data_to_send()  # lost on the way
    assert pair.esme.handle_timer(39.9) == []
    (event,) = pair.esme.handle_timer(40.0)
    assert isinstance(event, LinkDead)
    assert "enquire_link" in event.reason
    assert pair.esme.state is BindState.CLOSED
    assert pair.esme.get_timer() is None
    assert pair.esme.handle_timer(1000.0) == []


def test_silent_peer_means_link_dead_after_the_inactivity_timeout() -> None:
    config = SessionConfig(enquire_link_interval=None, inactivity_timeout=60.0)
    pair = SessionPair(config=config)
    pair.bind()
    assert pair.smsc.get_timer() == 60.0
    assert pair.smsc.handle_timer(59.0) == []
    (event,) = pair.smsc.handle_timer(60.0)
    assert isinstance(event, LinkDead)
    assert "60 s" in event.reason


def test_open_connection_without_bind_times_out_too() -> None:
    pair = SessionPair(config=SessionConfig(inactivity_timeout=5.0), now=100.0)
    assert pair.smsc.get_timer() == 105.0
    (event,) = pair.smsc.handle_timer(105.0)
    assert isinstance(event, LinkDead)


def test_timers_can_all_be_switched_off() -> None:
    pair = SessionPair(config=SessionConfig(enquire_link_interval=None, inactivity_timeout=None))
    pair.bind()
    assert pair.esme.get_timer() is None


def test_submit_response_timeout_frees_the_window(pair: SessionPair) -> None:
    sent = pair.esme.submit(SubmitSm(destination_addr="1"), 5.0)
    assert pair.esme.get_timer() == 15.0
    assert pair.esme.handle_timer(14.0) == []
    assert pair.esme.handle_timer(15.0) == [RequestTimedOut(sent)]
    assert pair.esme.window_free == CONFIG.window_size
    # The late answer is reported, not matched.
    (received,) = pair.to_smsc(now=16.0)
    pair.smsc.respond(received.pdu, message_id="1")  # type: ignore[union-attr]
    (late,) = pair.to_esme(now=17.0)
    assert isinstance(late, UnmatchedResponse)


def test_timeouts_are_reported_oldest_first(pair: SessionPair) -> None:
    first = pair.esme.submit(SubmitSm(destination_addr="1"), 1.0)
    second = pair.esme.submit(SubmitSm(destination_addr="2"), 2.0)
    assert pair.esme.handle_timer(12.0) == [RequestTimedOut(first), RequestTimedOut(second)]


def test_unanswered_bind_fails() -> None:
    pair = SessionPair(config=CONFIG)
    request = pair.esme.bind("esme", "pw", 0.0)
    assert pair.esme.get_timer() == 10.0
    assert pair.esme.handle_timer(10.0) == [BindFailed(request, None)]
    assert pair.esme.state is BindState.OPEN


def test_unanswered_unbind_closes_anyway(pair: SessionPair) -> None:
    pair.esme.unbind(50.0)
    assert pair.esme.handle_timer(60.0) == [Unbound(by_peer=False, acknowledged=False)]
    assert pair.esme.closed


def test_close_returns_the_abandoned_requests(pair: SessionPair) -> None:
    sent = pair.esme.submit(SubmitSm(destination_addr="1"), 0.0)
    assert pair.esme.close() == [sent]
    assert pair.esme.closed
    assert pair.esme.get_timer() is None
