"""The parking and top-up routes on a real aiohttp app and socket, over the service
harness, with a test authenticator (the header X-Test-Phone names the signed-in phone;
the real one, from sign-in, is wired in when the driver API is assembled)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from smsgw.service.driver_actions import DriverActions
from smsgw.transport.http_app import errors_middleware, start_http_server
from smsgw.transport.http_common import UNAUTHORIZED, HttpError
from smsgw.transport.http_driver_actions import DriverActionRoutes

from ..service.harness import OTHER_PHONE, PHONE, Harness

PLATE = "A123BC77"
AS_PHONE = {"X-Test-Phone": PHONE, "Accept-Language": "en"}
AS_OTHER = {"X-Test-Phone": OTHER_PHONE, "Accept-Language": "en"}


@dataclass
class PhoneHeaderAuthenticator:
    """Maps X-Test-Phone to the phone; records whether each call changes state."""

    calls: list[tuple[str, str, bool]] = field(default_factory=list)

    async def __call__(self, request: web.Request, state_changing: bool) -> str:
        self.calls.append((request.method, request.path, state_changing))
        phone = request.headers.get("X-Test-Phone")
        if not phone:
            raise HttpError(UNAUTHORIZED, "sign in first")
        return phone


@dataclass
class Api:
    base: str
    session: aiohttp.ClientSession
    harness: Harness
    actions: DriverActions
    auth: PhoneHeaderAuthenticator

    async def call(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> tuple[int, dict[str, object]]:
        async with self.session.request(
            method,
            f"{self.base}/v1/driver{path}",
            json=body if data is None and body is not None else None,
            data=data,
            headers=AS_PHONE if headers is None else headers,
        ) as response:
            assert response.content_type == "application/json"
            answer = await response.json()
            assert isinstance(answer, dict)
            return response.status, answer


@pytest.fixture
async def api(harness: Harness, actions: DriverActions) -> AsyncIterator[Api]:
    auth = PhoneHeaderAuthenticator()
    app = web.Application(middlewares=[errors_middleware])
    DriverActionRoutes(actions, auth).add_routes(app)
    server = await start_http_server(app, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Api(server.base_url, session, harness, actions, auth)
    finally:
        await server.close()


async def _top_up(api: Api, minor: int) -> str:
    status, body = await api.call(
        "POST", "/top-ups", {"amount": {"minor": minor, "currency": "RUB"}}
    )
    assert status == 202, body
    charge_id = body["charge_id"]
    assert isinstance(charge_id, str)
    await api.actions.drain()
    await api.harness.callback(charge_id, "confirmed")
    await api.harness.flush()
    return charge_id


async def test_top_up_pay_extend_and_stop_over_http(api: Api) -> None:
    status, options = await api.call("GET", "/top-ups/options")
    assert status == 200
    assert options["methods"] == [
        {
            "kind": "mobile",
            "operator": "mts",
            "min": {"minor": 100, "currency": "RUB", "text": "1 RUB"},
            "max": {"minor": 1_499_900, "currency": "RUB", "text": "14999 RUB"},
        }
    ]
    charge_id = await _top_up(api, 50_000)
    status, state = await api.call("GET", f"/top-ups/{charge_id}")
    assert (status, state["state"]) == (200, "confirmed")
    assert state["amount"] == {"minor": 50_000, "currency": "RUB", "text": "500 RUB"}

    request = {"zone": "1001", "plate": "а123вс77", "hours": 2}
    status, quote = await api.call("POST", "/quotes", request)
    assert status == 200
    assert quote["price"] == {"minor": 12_000, "currency": "RUB", "text": "120 RUB"}
    assert quote["to_charge"] == {"minor": 0, "currency": "RUB", "text": "0 RUB"}

    status, paid = await api.call("POST", "/parkings", request)
    assert status == 201, paid
    assert paid["outcome"] == "started"
    assert paid["balance"] == {"minor": 38_000, "currency": "RUB", "text": "380 RUB"}
    session = paid["session"]
    assert isinstance(session, dict)
    assert (session["zone"], session["plate"], session["state"]) == ("1001", PLATE, "active")
    assert str(session["end"]).endswith("+03:00")  # the zone's own time
    assert str(paid["message"]).startswith("Parking 1001 A123BC77 until")

    status, extended = await api.call("POST", f"/parkings/{session['id']}/extensions", {"hours": 1})
    assert (status, extended["outcome"]) == (200, "extended"), extended

    status, stopped = await api.call("DELETE", f"/parkings/{session['id']}")
    assert status == 200, stopped
    assert stopped["refund"] == {"minor": 18_000, "currency": "RUB", "text": "180 RUB"}
    assert stopped["balance"] == {"minor": 50_000, "currency": "RUB", "text": "500 RUB"}
    assert await api.harness.flush() == []  # web answers are not texted
    await api.harness.assert_books_balance()
    # every state change asked for the state-changing check (CSRF for the cookie)
    assert all(changing == (method != "GET") for method, _, changing in api.auth.calls)


async def test_a_shortfall_answers_awaiting_confirmation(api: Api) -> None:
    status, paid = await api.call("POST", "/parkings", {"zone": "1001", "plate": PLATE, "hours": 1})
    assert status == 201
    assert (paid["outcome"], paid["session"]) == ("awaiting_confirmation", None)
    status, state = await api.call("GET", f"/top-ups/{paid['charge_id']}")
    assert (status, state["state"]) == (200, "awaiting_confirmation")


async def test_the_answer_speaks_the_requests_language(api: Api) -> None:
    await _top_up(api, 50_000)
    headers = {"X-Test-Phone": PHONE, "Accept-Language": "kk-KZ,kk;q=0.9,ru;q=0.8"}
    body = {"zone": "1001", "plate": PLATE, "hours": 1}
    status, paid = await api.call("POST", "/parkings", body, headers=headers)
    assert status == 201
    assert "Тұрақ" in str(paid["message"])
    assert paid["balance"] == {"minor": 44_000, "currency": "RUB", "text": "440 ₽"}


async def test_refusals_are_409_with_the_sms_reply(api: Api) -> None:
    await _top_up(api, 50_000)
    body = {"zone": "1001", "plate": PLATE, "hours": 1}
    assert (await api.call("POST", "/parkings", body))[0] == 201
    status, again = await api.call("POST", "/parkings", body)
    assert (status, again["error"], again["reply_key"]) == (409, "refused", "pay.already_active")
    assert "X*1*A123BC77" in str(again["message"])
    status, unknown = await api.call("POST", "/parkings", {**body, "zone": "9999"})
    assert (status, unknown["reply_key"]) == (409, "zone.unknown")
    status, long = await api.call("POST", "/quotes", {"zone": "1003", "plate": PLATE, "hours": 4})
    assert (status, long["reply_key"]) == (409, "hours.too_many")
    status, too_much = await api.call(
        "POST", "/top-ups", {"amount": {"minor": 9_000_000, "currency": "RUB"}}
    )
    assert (status, too_much["reply_key"]) == (409, "limit.max_per_payment")


async def test_without_a_signed_in_phone_every_route_is_401(api: Api) -> None:
    routes = [
        ("POST", "/quotes"),
        ("POST", "/parkings"),
        ("POST", "/parkings/ses_1/extensions"),
        ("DELETE", "/parkings/ses_1"),
        ("GET", "/top-ups/options"),
        ("POST", "/top-ups"),
        ("GET", "/top-ups/chg_1"),
    ]
    for method, path in routes:
        status, body = await api.call(method, path, {"hours": 1}, headers={})
        assert (status, body["error"]) == (401, "unauthorized"), (method, path)


async def test_someone_elses_session_and_charge_are_404(api: Api) -> None:
    charge_id = await _top_up(api, 50_000)
    status, paid = await api.call("POST", "/parkings", {"zone": "1001", "plate": PLATE, "hours": 1})
    session = paid["session"]
    assert status == 201 and isinstance(session, dict)
    path = f"/parkings/{session['id']}"
    for method, route, body in [
        ("DELETE", path, None),
        ("POST", f"{path}/extensions", {"hours": 1}),
        ("GET", f"/top-ups/{charge_id}", None),
    ]:
        status, answer = await api.call(method, route, body, headers=AS_OTHER)
        assert (status, answer["error"]) == (404, "not_found"), route
    for route in ("/parkings/ses_made_up", "/parkings/..%2F..%2Fetc", "/parkings/" + "x" * 300):
        status, answer = await api.call("DELETE", route)
        assert status == 404, route
    assert await api.harness.paid_until(PLATE) is not None  # still running, untouched


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ([1, 2], "invalid_body"),
        ("text", "invalid_body"),
        ({}, "invalid_body"),
        ({"zone": "1001", "plate": PLATE}, "invalid_body"),
        ({"zone": "1001", "plate": PLATE, "hours": "2"}, "invalid_body"),
        ({"zone": "1001", "plate": PLATE, "hours": 2.5}, "invalid_body"),
        ({"zone": "1001", "plate": PLATE, "hours": True}, "invalid_body"),
        ({"zone": "1001", "plate": PLATE, "hours": 0}, "bad_hours"),
        ({"zone": "1001", "plate": PLATE, "hours": -3}, "bad_hours"),
        ({"zone": "1001", "plate": PLATE, "hours": 10_000}, "bad_hours"),
        ({"zone": "1001", "plate": PLATE, "hours": 10**30}, "invalid_body"),
        ({"zone": "1001", "plate": "NOTAPLATE!", "hours": 1}, "bad_plate"),
        ({"zone": "1001", "plate": "A" * 200, "hours": 1}, "invalid_body"),
        ({"zone": ["1001"], "plate": PLATE, "hours": 1}, "invalid_body"),
        ({"zone": "", "plate": PLATE, "hours": 1}, "invalid_body"),
    ],
)
async def test_bad_parking_bodies_are_422(api: Api, body: object, code: str) -> None:
    for path in ("/parkings", "/quotes"):
        status, answer = await api.call("POST", path, body)
        assert (status, answer["error"]) == (422, code), (path, answer)
        assert answer["message"]


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (None, "invalid_body"),
        (500, "invalid_body"),
        ({"minor": 0, "currency": "RUB"}, "invalid_body"),
        ({"minor": -500, "currency": "RUB"}, "invalid_body"),
        ({"minor": 10**40, "currency": "RUB"}, "invalid_body"),
        ({"minor": "500", "currency": "RUB"}, "invalid_body"),
        ({"minor": 500, "currency": "XXX"}, "invalid_body"),
        ({"minor": 500, "currency": "KZT"}, "bad_amount"),
    ],
)
async def test_bad_top_up_bodies_are_422(api: Api, amount: object, code: str) -> None:
    status, answer = await api.call("POST", "/top-ups", {"amount": amount})
    assert (status, answer["error"]) == (422, code), answer
    await api.actions.drain()
    assert api.harness.charging["mts"].requests == []


async def test_malformed_and_huge_bodies_are_refused_as_json(api: Api) -> None:
    status, answer = await api.call(
        "POST",
        "/parkings",
        data=b"{not json",
        headers={**AS_PHONE, "Content-Type": "application/json"},
    )
    assert (status, answer["error"]) == (422, "invalid_body")
    status, answer = await api.call(
        "POST", "/parkings", data=b"zone=1001", headers={**AS_PHONE, "Content-Type": "text/plain"}
    )
    assert (status, answer["error"]) == (415, "unsupported_media_type")
    huge = b'{"zone": "' + b"1" * 100_000 + b'"}'
    status, answer = await api.call(
        "POST", "/parkings", data=huge, headers={**AS_PHONE, "Content-Type": "application/json"}
    )
    assert (status, answer["error"]) == (413, "payload_too_large")
