"""Mobile operators: who they are, how a charge is confirmed, and their payment limits.

One `OperatorPolicy` per file operators/<id>.toml, parsed here from the mapping the
TOML reader produced (the domain reads no files). Schema, all amounts in major units
(roubles, tenge) as an integer or a decimal string, never a float:

    name = "Beeline"                  # shown in replies
    brands = ["билайн"]               # other names the operator trades under
    currency = "RUB"
    time_zone = "Europe/Moscow"       # the day and month of the limits are counted here
    supported = true                  # false: payments refused with operator.unsupported
    confirmation = "operator"         # or "gateway": we text the 1/0 question ourselves
    top_up = true                     # the parking account may be topped up from the
                                      # phone's own account (driver API); default false
    [limits]                          # every limit optional; min defaults to 1 minor unit
    min_per_payment = "10"            max_per_payment = "15000"
    per_day_amount = "60000"          per_day_count = 500
    per_month_amount = "100000"       per_month_count = 5000
    must_remain = "10"                # left on the phone's own balance after paying
    [numbers]
    prefixes = ["7903"]               # fallback only: the link tells the operator

`links` and `charging` tables belong to the transport and charging configuration and
are left to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smsgw.domain.errors import ConfigError, OperatorUnsupportedError
from smsgw.domain.money import MINOR_UNIT_DIGITS, Money

_TOP_LEVEL_KEYS = frozenset(
    {"id", "name", "brands", "currency", "time_zone", "supported", "confirmation", "top_up"}
    | {"limits", "numbers", "links", "charging"}
)
_AMOUNT_LIMITS = (
    "min_per_payment",
    "max_per_payment",
    "per_day_amount",
    "per_month_amount",
    "must_remain",
)
_COUNT_LIMITS = ("per_day_count", "per_month_count")
_NUMBER_KEYS = frozenset({"prefixes"})
_DECIMAL = re.compile(r"(\d+)(?:\.(\d+))?")
_PREFIX = re.compile(r"\d{1,15}")


class ConfirmationMode(StrEnum):
    OPERATOR = "operator"  # the operator texts its own confirmation request (e.g. from 7701)
    GATEWAY = "gateway"  # the gateway texts the request and takes the subscriber's 1 / 0


@dataclass(frozen=True, slots=True)
class OperatorLimits:
    min_per_payment: Money
    max_per_payment: Money | None = None
    per_day_amount: Money | None = None
    per_day_count: int | None = None
    per_month_amount: Money | None = None
    per_month_count: int | None = None
    must_remain: Money | None = None


@dataclass(frozen=True, slots=True)
class OperatorPolicy:
    id: str
    name: str
    currency: str
    time_zone: ZoneInfo
    limits: OperatorLimits
    brands: tuple[str, ...] = ()
    supported: bool = True
    confirmation: ConfirmationMode = ConfirmationMode.OPERATOR
    number_prefixes: tuple[str, ...] = ()
    # charges that only top up the parking account (no parking) are allowed
    top_up: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the operator is known by, folded for lookup."""
        return tuple(dict.fromkeys(n.casefold() for n in (self.id, self.name, *self.brands)))


def ensure_supported(policy: OperatorPolicy) -> None:
    if not policy.supported:
        raise OperatorUnsupportedError(operator=policy.name)


# --- loading -------------------------------------------------------------------------


def load_operators(
    mapping_by_id: Mapping[str, Mapping[str, object]],
) -> dict[str, OperatorPolicy]:
    """Parse every operator file (keyed by its id, the file's stem) and check that no two
    operators claim the same name, brand or number prefix."""
    operators = {
        operator_id: parse_operator(operator_id, data)
        for operator_id, data in mapping_by_id.items()
    }
    _refuse_shared(operators.values(), "brands", lambda policy: policy.names)
    _refuse_shared(operators.values(), "numbers.prefixes", lambda policy: policy.number_prefixes)
    return operators


def parse_operator(
    operator_id: str, data: Mapping[str, object], source: str | None = None
) -> OperatorPolicy:
    """One operator from its parsed TOML. `source` names the file in errors."""
    where = source or f"operators/{operator_id}.toml"
    _refuse_unknown_keys(data, _TOP_LEVEL_KEYS, where, "")
    if "id" in data and data["id"] != operator_id:
        raise ConfigError(f"{where}:id", f"must match the file name {operator_id!r}")
    currency = _currency(data, where)
    return OperatorPolicy(
        id=operator_id,
        name=_text(data, "name", where, default=operator_id),
        brands=_texts(data, "brands", where),
        currency=currency,
        time_zone=_time_zone(data, where),
        supported=_flag(data, "supported", where, default=True),
        confirmation=_confirmation(data, where),
        top_up=_flag(data, "top_up", where, default=False),
        number_prefixes=_prefixes(_table(data, "numbers", where), where),
        limits=_limits(_table(data, "limits", where), currency, where),
    )


def _refuse_shared(
    operators: Iterable[OperatorPolicy],
    what: str,
    values_of: Callable[[OperatorPolicy], Iterable[str]],
) -> None:
    owner_of: dict[str, str] = {}
    for policy in operators:
        for value in values_of(policy):
            other = owner_of.setdefault(value, policy.id)
            if other != policy.id:
                raise ConfigError(
                    f"operators/{policy.id}.toml:{what}",
                    f"{value!r} is claimed by {other!r} too",
                )


def _refuse_unknown_keys(
    data: Mapping[str, object], known: frozenset[str], where: str, prefix: str
) -> None:
    for key in data:
        if key not in known:
            raise ConfigError(f"{where}:{prefix}{key}", f"unknown key; known: {sorted(known)}")


def _table(data: Mapping[str, object], key: str, where: str) -> Mapping[str, object]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}:{key}", "must be a table")
    return value


def _text(data: Mapping[str, object], key: str, where: str, *, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}:{key}", "must be a non-empty string")
    return value.strip()


def _texts(data: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}:{key}", "must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _flag(data: Mapping[str, object], key: str, where: str, *, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}:{key}", "must be true or false")
    return value


def _currency(data: Mapping[str, object], where: str) -> str:
    value = data.get("currency")
    if not isinstance(value, str) or value not in MINOR_UNIT_DIGITS:
        raise ConfigError(f"{where}:currency", f"must be one of {sorted(MINOR_UNIT_DIGITS)}")
    return value


def _time_zone(data: Mapping[str, object], where: str) -> ZoneInfo:
    value = data.get("time_zone")
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}:time_zone", "must be an IANA time zone, e.g. Europe/Moscow")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"{where}:time_zone", f"unknown time zone {value!r}") from error


def _confirmation(data: Mapping[str, object], where: str) -> ConfirmationMode:
    value = data.get("confirmation", ConfirmationMode.OPERATOR.value)
    choices = [mode.value for mode in ConfirmationMode]
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{where}:confirmation", f"must be one of {choices}")
    return ConfirmationMode(value)


def _prefixes(numbers: Mapping[str, object], where: str) -> tuple[str, ...]:
    _refuse_unknown_keys(numbers, _NUMBER_KEYS, where, "numbers.")
    prefixes = _texts(numbers, "prefixes", where)
    for prefix in prefixes:
        if not _PREFIX.fullmatch(prefix):
            raise ConfigError(
                f"{where}:numbers.prefixes",
                f"{prefix!r} must be digits in international form without '+', e.g. 7903",
            )
    return prefixes


def _limits(limits: Mapping[str, object], currency: str, where: str) -> OperatorLimits:
    _refuse_unknown_keys(limits, frozenset(_AMOUNT_LIMITS + _COUNT_LIMITS), where, "limits.")
    amounts = {
        key: _amount(limits[key], currency, f"{where}:limits.{key}")
        for key in _AMOUNT_LIMITS
        if key in limits
    }
    counts = {
        key: _count(limits[key], f"{where}:limits.{key}") for key in _COUNT_LIMITS if key in limits
    }
    minimum = amounts.pop("min_per_payment", Money(1, currency))
    if not minimum.is_positive:
        raise ConfigError(f"{where}:limits.min_per_payment", "must be above zero")
    for key in ("max_per_payment", "per_day_amount", "per_month_amount"):
        if key in amounts and amounts[key] < minimum:
            raise ConfigError(f"{where}:limits.{key}", "must not be below min_per_payment")
    return OperatorLimits(
        min_per_payment=minimum,
        max_per_payment=amounts.get("max_per_payment"),
        per_day_amount=amounts.get("per_day_amount"),
        per_day_count=counts.get("per_day_count"),
        per_month_amount=amounts.get("per_month_amount"),
        per_month_count=counts.get("per_month_count"),
        must_remain=amounts.get("must_remain"),
    )


def _amount(value: object, currency: str, key: str) -> Money:
    """Major units, exact: 15000 or "0.01"; a float would already have lost the kopecks."""
    digits = MINOR_UNIT_DIGITS[currency]
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(key, 'must be an integer or a decimal string such as "0.01"')
    if isinstance(value, int):
        minor = value * 10**digits
    else:
        match = _DECIMAL.fullmatch(value.strip())
        if match is None or len(match.group(2) or "") > digits:
            raise ConfigError(key, f"{value!r} is not an amount with at most {digits} decimals")
        whole, fraction = match.group(1), (match.group(2) or "").ljust(digits, "0")
        minor = int(whole) * 10**digits + int(fraction or "0")
    if minor < 0:
        raise ConfigError(key, "must not be negative")
    return Money(minor, currency)


def _count(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(key, "must be a whole number of payments, at least 1")
    return value


# --- lookup --------------------------------------------------------------------------


def find_operator(operators: Mapping[str, OperatorPolicy], name: str) -> OperatorPolicy | None:
    """The operator known by `name`: its id, its name or a brand (Activ -> Kcell)."""
    wanted = name.strip().casefold()
    for policy in operators.values():
        if wanted in policy.names:
            return policy
    return None


def operator_by_number(
    operators: Mapping[str, OperatorPolicy], msisdn: str
) -> OperatorPolicy | None:
    """Fallback guess from number ranges, longest prefix first. Numbers are ported between
    operators, so the link a message came in on is the real answer; use this only when
    there is none."""
    number = international_digits(msisdn)
    best: OperatorPolicy | None = None
    best_length = 0
    for policy in operators.values():
        for prefix in policy.number_prefixes:
            if number.startswith(prefix) and len(prefix) > best_length:
                best, best_length = policy, len(prefix)
    return best


def international_digits(msisdn: str) -> str:
    """`+7 (903) 123-45-67` and the national `89031234567` -> `79031234567`.

    The trunk prefix 8 is rewritten to the country code 7 (Russia and Kazakhstan share
    it), the only national form subscribers of these operators send."""
    digits = "".join(ch for ch in msisdn if ch.isdigit())
    national_length = 11
    if len(digits) == national_length and digits.startswith("8"):
        return "7" + digits[1:]
    return digits
