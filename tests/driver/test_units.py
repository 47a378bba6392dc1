"""The driver API's pure parts: token and CSRF MACs, the schedule as the zones show it,
Accept-Language, and the `[driver]` and zone `location` settings."""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request

from smsgw.config import config_from_mapping, read_operator_files
from smsgw.config_secrets import production_secret_problems
from smsgw.domain.errors import ConfigError
from smsgw.domain.tariffs import PaidWindow, ZoneLocation
from smsgw.language import Language
from smsgw.service.driver_account import schedule, zone_feature
from smsgw.service.driver_auth import DriverSigner, random_code, random_session_id
from smsgw.transport.http_driver import request_language

REPO = Path(__file__).resolve().parents[2]
OPERATORS = read_operator_files(REPO / "operators")
BASE: dict[str, Any] = tomllib.loads((REPO / "config.toml").read_text("utf-8"))
NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
SIGNER = DriverSigner(b"driver-unit-secret-0123456789")


def test_a_token_names_its_session_until_it_expires() -> None:
    token = SIGNER.token("abc", NOW + timedelta(hours=1))
    assert SIGNER.session_of(token, NOW) == "abc"
    assert SIGNER.session_of(token, NOW + timedelta(hours=1)) is None
    assert DriverSigner(b"another-secret-0123456789").session_of(token, NOW) is None


@pytest.mark.parametrize("part", [0, 1, 2, 3])
def test_a_token_changed_anywhere_is_refused(part: int) -> None:
    parts = SIGNER.token("abc", NOW + timedelta(hours=1)).split(".")
    parts[part] = parts[part][:-1] + ("0" if parts[part][-1] != "0" else "1")
    assert SIGNER.session_of(".".join(parts), NOW) is None


@pytest.mark.parametrize("token", ["", "v1", "v1.a.b", "v1.a.1.b.c", "é.a.1.b", "v1." * 200])
def test_malformed_tokens_are_refused(token: str) -> None:
    assert SIGNER.session_of(token, NOW) is None


def test_csrf_values_belong_to_one_session() -> None:
    csrf = SIGNER.csrf("abc")
    assert SIGNER.csrf_matches("abc", csrf)
    assert not SIGNER.csrf_matches("abd", csrf)
    assert not SIGNER.csrf_matches("abc", "")
    assert not SIGNER.csrf_matches("abc", "ключ")
    # a CSRF value is no token, nor a code's MAC: each MAC has its own label
    assert csrf != SIGNER.mac("token", "abc") != SIGNER.code_mac("abc", "", "")


def test_codes_are_six_digits_and_session_ids_carry_no_dot() -> None:
    codes = {random_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 190
    assert all("." not in random_session_id() for _ in range(50))


def test_the_schedule_groups_days_by_hours() -> None:
    windows = [PaidWindow(day, 8 * 60, 20 * 60) for day in (0, 1, 2, 3, 4, 6)]
    windows.append(PaidWindow(5, 10 * 60, 24 * 60))
    assert schedule(windows) == [
        {"days": "Mon-Fri,Sun", "from": "08:00", "to": "20:00"},
        {"days": "Sat", "from": "10:00", "to": "24:00"},
    ]
    assert schedule([]) == []


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("", Language.RU),
        ("en", Language.EN),
        ("kk-KZ,ru;q=0.8", Language.KK),
        ("de-DE, en;q=0.5, ru;q=0.9", Language.RU),
        ("fr, de", Language.RU),
        ("en;q=0, kk", Language.KK),
        ("en;q=bad", Language.RU),
    ],
)
def test_accept_language_picks_ru_kk_or_en(header: str, language: Language) -> None:
    request = make_mocked_request("GET", "/", headers={"Accept-Language": header})
    assert request_language(request) is language


def _with_driver(**driver: object) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    raw["driver"] = driver
    return raw


def test_the_channel_is_off_by_default_and_the_demo_turns_it_on() -> None:
    assert config_from_mapping({}, OPERATORS).driver.enabled is False
    demo = config_from_mapping(BASE, OPERATORS)
    assert demo.driver.enabled and demo.driver.code_ttl_seconds == 300
    assert demo.driver.token_ttl_hours == 720
    assert "driver.secret: is the published demo value" in "\n".join(
        production_secret_problems(demo)
    )


@pytest.mark.parametrize(
    ("driver", "key"),
    [
        ({"enabled": True}, "driver.secret"),
        ({"enabled": "yes"}, "driver.enabled"),
        ({"code_ttl_seconds": 5}, "driver.code_ttl_seconds"),
        ({"code_atempts": 3}, "driver.code_atempts"),
    ],
)
def test_bad_driver_settings_are_named(driver: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(_with_driver(**driver), OPERATORS)
    assert caught.value.key == key


def test_a_short_driver_secret_is_refused_for_production() -> None:
    config = config_from_mapping(_with_driver(enabled=True, secret="short"), OPERATORS)
    assert [p.split(":")[0] for p in production_secret_problems(config)][-1] == "driver.secret"
    off = config_from_mapping(_with_driver(enabled=False, secret="short"), OPERATORS)
    assert "driver.secret" not in "\n".join(production_secret_problems(off))


def test_zone_locations_are_read_from_the_config() -> None:
    zones = config_from_mapping(BASE, OPERATORS).zones
    location = zones["8001"].location
    assert isinstance(location, ZoneLocation)
    assert location.point == (71.4305, 51.1283)
    assert len(location.outline) == 4
    assert all(zone.location is not None for zone in zones.values())


def _with_location(location: object) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    raw["zones"][0]["location"] = location
    return raw


@pytest.mark.parametrize(
    ("location", "key"),
    [
        ({"outline": [[1, 2], [3, 4], [5, 6]]}, "zones[0].location.point"),
        ({"point": [200, 10]}, "zones[0].location.point"),
        ({"point": [10, 95]}, "zones[0].location.point"),
        ({"point": ["37.6", "55.7"]}, "zones[0].location.point"),
        ({"point": [37.6]}, "zones[0].location.point"),
        ({"point": [37.6, 55.7], "outline": [[1, 2], [3, 4]]}, "zones[0].location.outline"),
        ({"point": [37.6, 55.7], "outline": [[1, 2], [3, 4], [5]]}, "zones[0].location.outline[2]"),
        ({"point": [37.6, 55.7], "shape": []}, "zones[0].location.shape"),
        ("Moscow", "zones[0].location"),
    ],
)
def test_bad_locations_are_named(location: object, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(_with_location(location), OPERATORS)
    assert caught.value.key == key


def test_a_point_alone_is_a_location() -> None:
    zones = config_from_mapping(_with_location({"point": [37, 55]}), OPERATORS).zones
    assert zones["1001"].location == ZoneLocation((37.0, 55.0), ())


def test_a_zone_with_only_a_point_is_a_point_on_the_map() -> None:
    zones = config_from_mapping(_with_location({"point": [37.5, 55.5]}), OPERATORS).zones
    feature = zone_feature(zones["1001"], NOW, Language.EN)
    assert feature["geometry"] == {"type": "Point", "coordinates": [37.5, 55.5]}
    properties = feature["properties"]
    assert isinstance(properties, dict)
    assert properties["point"] == [37.5, 55.5]
    assert properties["paid_now"] is True  # 09:00 in Moscow on a Tuesday
