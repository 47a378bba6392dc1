"""Signing in over real HTTP on the rig: the code arrives in the simulated phone's inbox,
and every way of getting in without it fails (code guessing, replayed codes, tampered,
expired or signed-out tokens, a cookie without its CSRF header)."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import structlog

from tests.driver.conftest import DRIVER_SECRET, DriverRig, call, texted_code
from tests.e2e.rig import Rig

PHONE = "79161234567"  # MTS by its prefix; never texted the gateway
OTHER = "79161112233"


async def sign_in(rig: Rig, http: aiohttp.ClientSession, msisdn: str = PHONE) -> dict[str, str]:
    """Ask for a code, read it from the phone, sign in: the sign-in answer."""
    base = rig.gateway.base_url
    received = len(rig.smsc.inbox[msisdn])
    status, body, _ = await call(http, "POST", f"{base}/v1/driver/codes", {"phone": msisdn})
    assert status == 202, body
    code = await texted_code(rig, msisdn, received + 1)
    status, body, _ = await call(
        http, "POST", f"{base}/v1/driver/sessions", {"phone": msisdn, "code": code}
    )
    assert status == 201, body
    return dict(body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_texted_code_signs_in_once_and_sign_out_kills_the_token(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        base = rig.gateway.base_url
        status, body, _ = await call(http, "POST", f"{base}/v1/driver/codes", {"phone": PHONE})
        assert (status, body) == (202, {"sent": True, "expires_in": 300, "resend_in": 60})
        (text,) = await rig.replies(PHONE, 1)
        code = await texted_code(rig, PHONE, 1)
        assert text == f"Код smsgw {code}. Никому его не сообщайте"

        status, body, response = await call(
            http, "POST", f"{base}/v1/driver/sessions", {"phone": PHONE, "code": code}
        )
        assert status == 201, body
        assert body["phone"] == "7916***4567"
        assert body["expires_at"].startswith("2026-04-09")  # 720 hours after 10 March
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith(f"smsgw_driver={body['token']};")
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=2592000"):
            assert attribute in cookie
        assert "Secure" not in cookie  # plain HTTP on loopback: the demo

        status, me, _ = await call(http, "GET", f"{base}/v1/driver/me", None, bearer(body["token"]))
        assert (status, me["phone"], me["operator"], me["language"]) == (
            200,
            "7916***4567",
            "mts",  # never texted: the operator its number belongs to (its code came so)
            "ru",
        )
        assert me["csrf"] == body["csrf"]

        # the same code again: used
        status, again, _ = await call(
            http, "POST", f"{base}/v1/driver/sessions", {"phone": PHONE, "code": code}
        )
        assert (status, again["error"]) == (401, "bad_code")

        status, _, _ = await call(
            http, "DELETE", f"{base}/v1/driver/sessions/current", None, bearer(body["token"])
        )
        assert status == 204
        status, gone, _ = await call(
            http, "GET", f"{base}/v1/driver/me", None, bearer(body["token"])
        )
        assert (status, gone["error"]) == (401, "unauthorized")


async def test_five_wrong_codes_kill_the_code_and_other_phones_codes_do_not_fit(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        base = rig.gateway.base_url
        await call(http, "POST", f"{base}/v1/driver/codes", {"phone": PHONE})
        code = await texted_code(rig, PHONE, 1)
        # another phone's right code is a wrong one for this phone
        status, body, _ = await call(
            http, "POST", f"{base}/v1/driver/sessions", {"phone": OTHER, "code": code}
        )
        assert (status, body["error"]) == (401, "bad_code")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            status, body, _ = await call(
                http, "POST", f"{base}/v1/driver/sessions", {"phone": PHONE, "code": wrong}
            )
            assert (status, body["error"]) == (401, "bad_code")
        status, body, _ = await call(
            http, "POST", f"{base}/v1/driver/sessions", {"phone": PHONE, "code": code}
        )
        assert (status, body["error"]) == (401, "bad_code")  # dead after five wrong tries


async def test_an_expired_code_does_not_sign_in(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        base = rig.gateway.base_url
        await call(http, "POST", f"{base}/v1/driver/codes", {"phone": PHONE})
        code = await texted_code(rig, PHONE, 1)
        rig.clock.advance(timedelta(seconds=301))
        status, body, _ = await call(
            http, "POST", f"{base}/v1/driver/sessions", {"phone": PHONE, "code": code}
        )
        assert (status, body["error"]) == (401, "bad_code")


async def test_codes_are_limited_per_phone_and_per_address(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig(codes_per_source_per_hour=7) as rig:
        base = rig.gateway.base_url
        url = f"{base}/v1/driver/codes"
        assert (await call(http, "POST", url, {"phone": PHONE}))[0] == 202
        status, body, response = await call(http, "POST", url, {"phone": PHONE})
        assert (status, body["error"], response.headers["Retry-After"]) == (
            429,
            "too_many_codes",
            "60",
        )
        for _ in range(4):
            rig.clock.advance(timedelta(seconds=61))
            assert (await call(http, "POST", url, {"phone": PHONE}))[0] == 202
        rig.clock.advance(timedelta(seconds=61))
        status, body, response = await call(http, "POST", url, {"phone": PHONE})
        assert (status, body["error"]) == (429, "too_many_codes")  # the sixth in an hour
        assert 3000 < int(response.headers["Retry-After"]) <= 3600
        # this address has asked for 5: two more phones, then it is refused too
        assert (await call(http, "POST", url, {"phone": OTHER}))[0] == 202
        assert (await call(http, "POST", url, {"phone": "79161112234"}))[0] == 202
        status, body, _ = await call(http, "POST", url, {"phone": "79161112235"})
        assert (status, body["error"]) == (429, "too_many_codes")


async def test_a_number_of_no_known_operator_is_refused(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        url = f"{rig.gateway.base_url}/v1/driver/codes"
        status, body, _ = await call(
            http, "POST", url, {"phone": "15551234567"}, {"Accept-Language": "en"}
        )
        assert (status, body["error"]) == (422, "unknown_operator")
        assert body["message"] == "This number's operator is not connected"


async def test_tampered_expired_and_foreign_tokens_are_refused(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        base = rig.gateway.base_url
        token = (await sign_in(rig, http))["token"]
        version, session, expiry, signature = token.split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        later = str(int(expiry) + 3600)
        forged = [
            "",
            "garbage",
            f"{version}.{session}.{expiry}.{flipped}",
            f"{version}.{session}.{later}.{signature}",
            f"{version}.{session[:-1]}x.{expiry}.{signature}",
            f"v2.{session}.{expiry}.{signature}",
            token + "." + signature,
            "x" * 5000,
        ]
        for bad in forged:
            status, body, response = await call(
                http, "GET", f"{base}/v1/driver/account", None, bearer(bad)
            )
            assert (status, body["error"]) == (401, "unauthorized"), bad
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        # the operations API's token is not a driver's token, nor the reverse
        status, _, _ = await call(http, "GET", f"{base}/v1/driver/me", None, bearer("x"))
        assert status == 401
        status, _, _ = await call(http, "GET", f"{base}/v1/phones/{PHONE}", None, bearer(token))
        assert status == 401
        # no header, no cookie
        status, body, _ = await call(http, "GET", f"{base}/v1/driver/vehicles")
        assert (status, body["error"]) == (401, "unauthorized")
        # past its expiry the token is refused, though the session row still exists
        rig.clock.advance(timedelta(hours=721))
        status, _, _ = await call(http, "GET", f"{base}/v1/driver/me", None, bearer(token))
        assert status == 401


async def test_the_cookie_needs_the_csrf_header_to_change_anything(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        base = rig.gateway.base_url
        signed = await sign_in(rig, http)
        cookie = {"Cookie": f"smsgw_driver={signed['token']}"}
        url = f"{base}/v1/driver/vehicles"
        assert (await call(http, "GET", url, None, cookie))[0] == 200  # reading needs none
        status, body, _ = await call(http, "POST", url, {"plate": "A123BC77"}, cookie)
        assert (status, body["error"]) == (403, "csrf")
        wrong = {**cookie, "X-CSRF-Token": signed["csrf"][:-1] + "x"}
        status, body, _ = await call(http, "POST", url, {"plate": "A123BC77"}, wrong)
        assert (status, body["error"]) == (403, "csrf")
        right = {**cookie, "X-CSRF-Token": signed["csrf"]}
        status, body, _ = await call(http, "POST", url, {"plate": "A123BC77"}, right)
        assert (status, body) == (201, {"plate": "A123BC77"})
        # another session's CSRF value does not fit this one
        other = await sign_in(rig, http, OTHER)
        mixed = {**cookie, "X-CSRF-Token": other["csrf"]}
        status, body, _ = await call(http, "DELETE", f"{url}/A123BC77", None, mixed)
        assert (status, body["error"]) == (403, "csrf")
        status, _, _ = await call(
            http, "DELETE", f"{base}/v1/driver/sessions/current", None, cookie
        )
        assert status == 403  # signing out by cookie is a state change too


async def test_bad_bodies_are_refused_as_json(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        url = f"{rig.gateway.base_url}/v1/driver/codes"
        cases: list[tuple[bytes, int, str]] = [
            (b"{not json", 400, "invalid_json"),
            (b"[1, 2]", 400, "invalid_json"),
            (b"{}", 400, "missing_field"),
            (b'{"phone": 79161234567}', 400, "invalid_field"),
            (b'{"phone": "call me"}', 400, "invalid_field"),
            (b'{"phone": "' + b"7" * 5000 + b'"}', 413, "payload_too_large"),
        ]
        for raw, expected_status, error in cases:
            status, body, _ = await call(http, "POST", url, raw=raw)
            assert (status, body["error"]) == (expected_status, error), raw[:40]
        status, body, _ = await call(http, "POST", url, raw=b"x" * (1024 * 1024))
        assert (status, body["error"]) == (413, "payload_too_large")
        sessions = f"{rig.gateway.base_url}/v1/driver/sessions"
        status, body, _ = await call(http, "POST", sessions, {"phone": PHONE, "code": 123456})
        assert (status, body["error"]) == (400, "invalid_field")


async def test_logs_hold_no_phone_number_and_no_code(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        with structlog.testing.capture_logs() as logs:
            signed = await sign_in(rig, http)
            code = await texted_code(rig, PHONE, 1)
            await call(
                http, "GET", f"{rig.gateway.base_url}/v1/driver/me", None, bearer(signed["token"])
            )
        written = repr(logs)
        assert any(entry["event"] == "driver.sign_in" for entry in logs)
        for secret in (PHONE, code, signed["token"], DRIVER_SECRET):
            assert secret not in written


async def test_the_channel_switched_off_is_not_there(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig(enabled=False) as rig:
        base = rig.gateway.base_url
        for method, path in (
            ("POST", "/v1/driver/codes"),
            ("POST", "/v1/driver/sessions"),
            ("GET", "/v1/driver/zones"),
            ("GET", "/v1/driver/me"),
        ):
            status, body, _ = await call(http, method, f"{base}{path}", {"phone": PHONE})
            assert (status, body["error"]) == (404, "not_found"), path


async def test_the_code_goes_through_the_phones_own_operator_in_its_language(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        # an MTS number ported to Beeline, which chose English by SMS
        rig.phone(PHONE, operator="beeline")
        await rig.converse(PHONE, "LANG*EN")
        url = f"{rig.gateway.base_url}/v1/driver/codes"
        status, _, _ = await call(http, "POST", url, {"phone": f"+{PHONE}"})
        assert status == 202
        await rig.replies(PHONE, 2)
        sent = rig.smsc.inbox[PHONE][-1]
        assert (sent.operator, sent.source) == ("beeline", "7757")
        assert sent.text.startswith("smsgw code ") and sent.text.endswith(
            ". Do not tell it to anyone"
        )
        # the national form of the number is the same phone
        rig.clock.advance(timedelta(seconds=61))
        status, _, _ = await call(http, "POST", url, {"phone": "8" + PHONE[1:]})
        assert status == 202
        await rig.replies(PHONE, 3)
