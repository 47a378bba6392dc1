from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import orjson
import pytest

from smsgw.service.ports import CallbackAnswer, CallbackVerdict, OutboxState
from smsgw.transport.http_app import RunningHttpServer
from tests.http.conftest import OPTIONS, FakeServiceApi, StartServer


async def _error_code(response: aiohttp.ClientResponse) -> str:
    assert response.content_type == "application/json"
    return str(orjson.loads(await response.read())["error"])


@pytest.mark.parametrize(
    ("report_type", "state"),
    [("1", OutboxState.DELIVERED), ("2", OutboxState.FAILED), ("16", OutboxState.FAILED)],
)
async def test_final_reports_reach_the_outbox(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    report_type: str,
    state: OutboxState,
) -> None:
    params = {"id": "out-7f3a", "type": report_type, "smsc_id": "mts1"}
    async with http.get(f"{server.base_url}/dlr/kannel/mts-kannel", params=params) as response:
        assert response.status == 200
    assert gateway.receipts == [("mts", "out-7f3a", state)]


@pytest.mark.parametrize("report_type", ["4", "8", "32"])
async def test_intermediate_reports_are_acknowledged_only(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    report_type: str,
) -> None:
    params = {"id": "out-7f3a", "type": report_type}
    async with http.get(f"{server.base_url}/dlr/kannel/mts-kannel", params=params) as response:
        assert response.status == 200
    assert gateway.receipts == []


async def test_unmatched_report_is_still_acknowledged(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    gateway.receipt_answer = False
    params = {"id": "unknown", "type": "1"}
    async with http.get(f"{server.base_url}/dlr/kannel/mts-kannel", params=params) as response:
        assert response.status == 200
    assert len(gateway.receipts) == 1


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"type": "1"}, 400, "missing_field"),
        ({"id": "out-1"}, 400, "missing_field"),
        ({"id": "out-1", "type": "delivered"}, 400, "invalid_field"),
    ],
)
async def test_bad_reports_are_400_json(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    async with http.get(f"{server.base_url}/dlr/kannel/mts-kannel", params=params) as response:
        assert response.status == status
        assert await _error_code(response) == code
    assert gateway.receipts == []


async def test_report_on_unknown_link_is_404(
    server: RunningHttpServer, http: aiohttp.ClientSession
) -> None:
    params = {"id": "out-1", "type": "1"}
    async with http.get(f"{server.base_url}/dlr/kannel/other", params=params) as response:
        assert response.status == 404
        assert await _error_code(response) == "unknown_link"


async def test_report_not_recorded_is_503(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    gateway.receipt_answer = None
    params = {"id": "out-1", "type": "1"}
    async with http.get(f"{server.base_url}/dlr/kannel/mts-kannel", params=params) as response:
        assert response.status == 503
        assert await _error_code(response) == "not_stored"


# --- charge callbacks ------------------------------------------------------------------


async def test_callback_passes_exact_bytes_and_headers(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    gateway.callback_answer = CallbackAnswer(CallbackVerdict.STORED, result="applied")
    # deliberately not canonical JSON: a signature covers these exact bytes
    body = b'{ "charge_id":"c-1",  "result":"confirmed" }\n'
    headers = {"Content-Type": "application/json", "X-Signature": "sha256=abc", "X-Nonce": "n1"}
    async with http.post(
        f"{server.base_url}/charging/mts/callback", data=body, headers=headers
    ) as response:
        assert response.status == 200
        assert orjson.loads(await response.read()) == {"status": "stored", "result": "applied"}
    ((operator, seen_headers, seen_body),) = gateway.callbacks
    assert (operator, seen_body) == ("mts", body)
    assert seen_headers["X-Signature"] == "sha256=abc"
    assert seen_headers["X-Nonce"] == "n1"


async def test_service_refusal_is_passed_back(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    gateway.callback_answer = CallbackAnswer(CallbackVerdict.BAD_SIGNATURE, "signature mismatch")
    async with http.post(f"{server.base_url}/charging/mts/callback", data=b"{}") as response:
        assert response.status == 401
        assert await _error_code(response) == "bad_signature"


# The statuses docs/operator-charging.md promises the operator, written out here on their
# own: the service says what became of a callback, only the listener knows HTTP.
CALLBACK_STATUSES = {
    CallbackVerdict.STORED: 200,
    CallbackVerdict.MALFORMED: 400,
    CallbackVerdict.UNSIGNED: 401,
    CallbackVerdict.BAD_SIGNATURE: 401,
    CallbackVerdict.STALE: 401,
    CallbackVerdict.UNKNOWN_OPERATOR: 404,
    CallbackVerdict.UNKNOWN_CHARGE: 404,
    CallbackVerdict.REPLAYED: 409,
    CallbackVerdict.CONFLICT: 409,
    CallbackVerdict.UNAVAILABLE: 503,
}


def test_every_callback_verdict_has_its_status() -> None:
    assert set(CALLBACK_STATUSES) == set(CallbackVerdict)


@pytest.mark.parametrize(("verdict", "status"), CALLBACK_STATUSES.items(), ids=str)
async def test_each_callback_verdict_is_answered_with_its_status(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    verdict: CallbackVerdict,
    status: int,
) -> None:
    gateway.callback_answer = CallbackAnswer(verdict, "why", result="applied")
    async with http.post(f"{server.base_url}/charging/mts/callback", data=b"{}") as response:
        assert response.status == status
        body = orjson.loads(await response.read())
    if verdict is CallbackVerdict.STORED:
        assert body == {"status": "stored", "result": "applied"}
    else:
        assert body == {"error": verdict.value, "detail": "why"}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_callback_over_the_limit_is_413(
    start_server: StartServer, http: aiohttp.ClientSession, gateway: FakeServiceApi, chunked: bool
) -> None:
    server = await start_server(replace(OPTIONS, callback_max_bytes=1024))
    body = b"x" * 1025

    async def stream() -> AsyncIterator[bytes]:
        for offset in range(0, len(body), 100):
            yield body[offset : offset + 100]

    data = stream() if chunked else body
    async with http.post(f"{server.base_url}/charging/mts/callback", data=data) as response:
        assert response.status == 413
        assert await _error_code(response) == "payload_too_large"
    assert gateway.callbacks == []


async def test_callback_at_the_limit_is_passed(
    start_server: StartServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    server = await start_server(replace(OPTIONS, callback_max_bytes=1024))
    async with http.post(f"{server.base_url}/charging/mts/callback", data=b"y" * 1024) as response:
        assert response.status == 200
    assert gateway.callbacks[0][2] == b"y" * 1024
