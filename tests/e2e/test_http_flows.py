"""The gateway's HTTP side end to end, on the in-process rig (tests/e2e/rig.py): MO as
Kannel's get-url sends it and as JSON, replies leaving through the operator's SMPP link
into the simulated SMSC, operator callbacks (forged and replayed) and the operations API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from yarl import URL

from simulator.operator import SentCallback
from simulator.phones import ConfirmationPolicy
from smsgw.charging.protocol import ChargeView, WireStatus, callback_body
from smsgw.charging.signing import secret_bytes, signature_headers, unix_timestamp
from smsgw.domain.money import Money
from tests.e2e.rig import (
    HTTP_LINK,
    HTTP_LINK_SECRET,
    SHORT_NUMBER,
    TOKEN,
    Rig,
    secret_for,
)

DRIVER = "79161234567"
OTHER = "79031112233"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def kannel_url(rig: Rig, sender: str, text: str, message_id: str, link: str = HTTP_LINK) -> URL:
    """The URL Kannel's get-url makes of a UCS-2 MO: the link's secret, the text's
    UTF-16BE octets percent-encoded, coding 2, charset UTF-16BE, Kannel's id for it."""
    octets = quote(text.encode("utf-16-be"), safe="")
    query = (
        f"secret={HTTP_LINK_SECRET}&sender=%2B{sender}&receiver={SHORT_NUMBER}&text={octets}"
        f"&coding=2&charset=UTF-16BE&smsc={link}&id={message_id}"
    )
    return URL(f"{rig.gateway.base_url}/mo/kannel/{link}?{query}", encoded=True)


async def kannel_mo(
    rig: Rig, http: aiohttp.ClientSession, sender: str, text: str, message_id: str
) -> int:
    async with http.get(kannel_url(rig, sender, text, message_id)) as response:
        assert await response.read() == b"", "the gateway sends its replies itself"
        return response.status


async def json_mo(rig: Rig, http: aiohttp.ClientSession, sender: str, text: str, mo_id: str) -> int:
    document = {"sender": sender, "receiver": SHORT_NUMBER, "text": text, "id": mo_id}
    url = f"{rig.gateway.base_url}/mo/json/{HTTP_LINK}?secret={HTTP_LINK_SECRET}"
    async with http.post(url, json=document) as response:
        return response.status


async def get_json(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with http.get(url, headers=headers) as response:
        return response.status, orjson.loads(await response.read())


async def post_callback(
    rig: Rig, http: aiohttp.ClientSession, body: bytes, headers: dict[str, str]
) -> tuple[int, Any]:
    url = f"{rig.gateway.base_url}/charging/mts/callback"
    sent = {**headers, "Content-Type": "application/json"}
    async with http.post(url, data=body, headers=sent) as response:
        return response.status, orjson.loads(await response.read())


async def charge_requested(rig: Rig) -> None:
    """Return once the MOs taken so far are processed, their charge requests included
    (they go out after the unit of work that queued the reply asking to confirm)."""
    await rig.gateway.service.messages.drain()


def replay_headers(operator: str, callback: SentCallback) -> dict[str, str]:
    """The headers the operator sent with `callback`: the signature is a function of the
    secret, the timestamp (also in the body) and the body, so they can be made again."""
    timestamp = str(orjson.loads(callback.body)["timestamp"])
    return signature_headers(secret_bytes(secret_for(operator)), timestamp, callback.body)


# --- MO over HTTP ----------------------------------------------------------------------------


async def test_kannel_ucs2_pay_confirm_and_reply_over_smpp(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    phone = rig.phone(DRIVER, rubles=500)
    assert await kannel_mo(rig, http, DRIVER, "1001*а123вс77*2", "kannel-1") == 200
    await rig.settle()
    asked, started = await rig.replies(DRIVER, 2)
    assert "120" in asked
    assert "A123BC77" in started and "1001" in started and "11:00" in started
    assert {mt.operator for mt in rig.smsc.inbox[DRIVER]} == {"mts"}, "out on the MTS bind"
    assert phone.texts_from("7701"), "the operator asked the subscriber to confirm"
    assert phone.balance == Money(500_00 - 120_00, "RUB")
    assert await rig.balance(DRIVER) == Money(0, "RUB")


async def test_json_mo_is_answered(rig: Rig, http: aiohttp.ClientSession) -> None:
    rig.phone(DRIVER)
    assert await json_mo(rig, http, DRIVER, "I", "json-1") == 200
    (status,) = await rig.replies(DRIVER, 1)
    assert "0" in status  # no parking, an empty account


async def test_the_same_kannel_mo_twice_is_processed_once(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    phone = rig.phone(DRIVER)
    for _ in range(2):  # Kannel retries a get-url whose answer it did not see
        assert await kannel_mo(rig, http, DRIVER, "1001*A123BC77*1", "kannel-7") == 200
    await rig.settle()
    await rig.replies(DRIVER, 2)
    # a later MO's reply: anything the duplicate had queued would have come out before it
    assert await json_mo(rig, http, DRIVER, "I", "json-2") == 200
    texts = await rig.replies(DRIVER, 3)
    assert texts[2].startswith("Парковки: 1001 A123BC77"), "the third reply answers the I"
    assert len(rig.operators["mts"].charges) == 1
    assert phone.balance == Money(1000_00 - 60_00, "RUB")
    metrics = await metrics_text(rig, http)
    assert f'mo_received_total{{link="{HTTP_LINK}",operator="mts"}} 2.0' in metrics
    assert f'mo_duplicates_total{{link="{HTTP_LINK}",operator="mts"}} 1.0' in metrics


async def test_the_same_text_twice_without_an_id_is_answered_twice(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    """Only a repeated transport id marks a retry: a driver who texts I twice, through
    an HTTP source that gives no id, gets two answers."""
    rig.phone(DRIVER)
    url = f"{rig.gateway.base_url}/mo/json/{HTTP_LINK}?secret={HTTP_LINK_SECRET}"
    for _ in range(2):
        document = {"sender": DRIVER, "receiver": SHORT_NUMBER, "text": "I"}
        async with http.post(url, json=document) as response:
            assert response.status == 200
    assert len(await rig.replies(DRIVER, 2)) == 2
    metrics = await metrics_text(rig, http)
    assert "mo_duplicates_total{" not in metrics


async def test_a_kannel_mo_with_bad_fields_is_refused_as_json(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    url = (
        f"{rig.gateway.base_url}/mo/kannel/{HTTP_LINK}"
        f"?secret={HTTP_LINK_SECRET}&receiver={SHORT_NUMBER}&text=I"
    )
    status, body = await get_json(http, url)
    assert status == 400 and "sender" in body["message"]
    status, body = await get_json(http, f"{rig.gateway.base_url}/mo/kannel/nowhere?sender=1")
    assert status == 404 and body["error"]


async def test_nobody_can_text_as_a_phone_over_http(rig: Rig, http: aiohttp.ClientSession) -> None:
    """The attack: stop a victim's parking (and have it refunded) by posting `S` in the
    victim's name, on an SMPP link's id or on the HTTP link without its secret."""
    phone = rig.phone(DRIVER)
    await rig.converse(DRIVER, "1001*A123BC77*2", expect=2)
    await rig.settle()
    base = rig.gateway.base_url
    stop = {"sender": DRIVER, "receiver": SHORT_NUMBER, "text": "S"}
    for url in (f"{base}/mo/json/mts-1", f"{base}/mo/json/{HTTP_LINK}"):
        async with http.post(url, json=stop) as response:
            assert response.status in (401, 404), url
            assert set(orjson.loads(await response.read())) == {"error", "message"}
    forged = kannel_url(rig, DRIVER, "S", "forged-1").update_query(secret="guessed")
    async with http.get(forged) as response:
        assert response.status == 401
    for link in ("mts-1", HTTP_LINK):  # a reply marked as failed by guessing its id
        status, _ = await get_json(http, f"{base}/dlr/kannel/{link}?id=1&type=2")
        assert status in (401, 404)
    await rig.gateway.service.messages.drain()
    overview = await phone_overview(rig, http, DRIVER)
    assert [s["plate"] for s in overview["sessions"]] == ["A123BC77"], "still parked"
    assert len(rig.smsc.inbox[DRIVER]) == 2, "no reply to a forged stop"
    assert phone.balance == Money(1000_00 - 120_00, "RUB")
    metrics = await metrics_text(rig, http)
    assert "http_link_refusals_total" in metrics
    assert 'mo_received_total{link="mts-1",operator="mts"} 1.0' in metrics


# --- operator callbacks ----------------------------------------------------------------------


async def test_forged_callback_is_refused_and_moves_no_money(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    phone = rig.phone(DRIVER, policy=ConfirmationPolicy.IGNORE)
    await rig.converse(DRIVER, "1001*A123BC77*1")
    await charge_requested(rig)
    (charge,) = rig.operators["mts"].charges.values()
    timestamp = unix_timestamp(rig.clock.now())
    view = ChargeView(charge.request.charge_id, WireStatus.CONFIRMED, "forged-1", None)
    body = callback_body(view, nonce="f0f0f0f0", timestamp=timestamp)
    forged = signature_headers(b"not-the-operator-secret-000", timestamp, body)

    status, answer = await post_callback(rig, http, body, forged)

    assert (status, answer["error"]) == (401, "bad_signature")
    assert await rig.balance(DRIVER) == Money(0, "RUB")
    assert phone.balance == Money(1000_00, "RUB")
    overview = await phone_overview(rig, http, DRIVER)
    assert overview["sessions"] == [] and overview["pending_charge"] is not None
    (status_reply,) = await rig.converse(DRIVER, "I")
    # the payment still waits for the subscriber: shown as pending, no session started
    assert "ждёт вашего подтверждения" in status_reply and "Парковки" not in status_reply


async def test_replayed_genuine_callback_is_refused_and_applied_once(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    phone = rig.phone(DRIVER, policy=ConfirmationPolicy.IGNORE)
    await rig.converse(DRIVER, "1001*A123BC77*1")
    await charge_requested(rig)
    operator = rig.operators["mts"]
    await operator.answer(DRIVER, "1")  # the subscriber confirms; the callback goes out
    genuine = operator.callbacks[-1]
    assert genuine.status == 200
    started = (await rig.replies(DRIVER, 2))[-1]
    assert "A123BC77" in started

    status, answer = await post_callback(rig, http, genuine.body, replay_headers("mts", genuine))

    assert (status, answer["error"]) == (409, "replayed")
    assert phone.balance == Money(1000_00 - 60_00, "RUB")
    assert await rig.balance(DRIVER) == Money(0, "RUB")
    (status_reply,) = await rig.converse(DRIVER, "I")  # and no second "started" before it
    assert status_reply.startswith("Парковки: 1001 A123BC77")
    assert len(rig.smsc.inbox[DRIVER]) == 3


# --- the operations API ----------------------------------------------------------------------


async def metrics_text(rig: Rig, http: aiohttp.ClientSession) -> str:
    async with http.get(f"{rig.gateway.base_url}/metrics", headers=AUTH) as response:
        assert response.status == 200
        return await response.text()


async def phone_overview(rig: Rig, http: aiohttp.ClientSession, msisdn: str) -> Any:
    status, body = await get_json(http, f"{rig.gateway.base_url}/v1/phones/{msisdn}", AUTH)
    assert status == 200
    return body


async def test_health_is_open_and_everything_else_needs_the_token(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    base = rig.gateway.base_url
    assert await get_json(http, f"{base}/health") == (200, {"status": "ok"})
    for path in ("/ready", "/metrics", "/v1/plates/A123BC77?zone=1001", f"/v1/phones/{DRIVER}"):
        status, body = await get_json(http, base + path)
        assert (status, body["error"]) == (401, "unauthorized"), path
        wrong = {"Authorization": "Bearer not-the-token"}
        assert (await get_json(http, base + path, wrong))[0] == 401, path
    status, body = await get_json(http, f"{base}/ready", AUTH)
    assert (status, body["ready"], body["store"]) == (200, True, "ok")


async def test_metrics_count_mo_by_link(rig: Rig, http: aiohttp.ClientSession) -> None:
    rig.phone(DRIVER)
    rig.phone(OTHER, operator="beeline")
    await rig.converse(DRIVER, "?")  # over SMPP, on mts-1
    assert await json_mo(rig, http, DRIVER, "I", "json-9") == 200  # over HTTP, on mts-http
    await rig.replies(DRIVER, 2)
    await rig.converse(OTHER, "?")  # over SMPP, on beeline-1
    metrics = await metrics_text(rig, http)
    assert 'mo_received_total{link="mts-1",operator="mts"} 1.0' in metrics
    assert f'mo_received_total{{link="{HTTP_LINK}",operator="mts"}} 1.0' in metrics
    assert 'mo_received_total{link="beeline-1",operator="beeline"} 1.0' in metrics


async def test_phone_overview_shows_the_session_and_account(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    rig.phone(DRIVER)
    assert await kannel_mo(rig, http, DRIVER, "1001*A123BC77*2", "kannel-2") == 200
    await rig.settle()
    await rig.replies(DRIVER, 2)
    overview = await phone_overview(rig, http, DRIVER)
    (session,) = overview["sessions"]
    assert (session["plate"], session["zone"]) == ("A123BC77", "1001")
    assert session["end"].startswith("2026-03-10T11:00:00")
    assert overview["pending_charge"] is None


async def test_an_unpaid_plate_is_not_paid(rig: Rig, http: aiohttp.ClientSession) -> None:
    url = f"{rig.gateway.base_url}/v1/plates/а123вс77?zone=1001"
    status, body = await get_json(http, url, AUTH)
    assert status == 200
    assert body == {"plate": "A123BC77", "zone": "1001", "paid": False, "until": None}
    status, body = await get_json(http, f"{rig.gateway.base_url}/v1/plates/A1?zone=1001", AUTH)
    assert status == 400


async def test_inspector_sees_the_plate_paid_until_the_end(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    rig.phone(DRIVER)
    assert await kannel_mo(rig, http, DRIVER, "1001*A123BC77*2", "kannel-3") == 200
    await rig.settle()
    await rig.replies(DRIVER, 2)
    url = f"{rig.gateway.base_url}/v1/plates/A123BC77?zone=1001"
    status, body = await get_json(http, url, AUTH)
    assert status == 200
    assert body["paid"] is True
    assert body["until"] == "2026-03-10T11:00:00+03:00"
