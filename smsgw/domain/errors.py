"""Typed refusals of the domain, each naming the reply that answers it.

Every refusal the driver should hear about is a `DomainError` subclass whose
`reply_key` names the reply text (see the reply-key list shared with
smsgw.replies). The facts the reply needs travel on the instance as the `facts`
dict, given as keyword arguments when raising:

    raise PlateAlreadyActiveError(plate="A123BC77", end=end, example="X*2*A123BC77")

Fact types follow the shared contract: Money for amounts and balances, aware
datetime for end/until, str for zone/plate/operator, int for hours.

`ConfigError` is not a reply: it stops the start of the gateway (or a CLI command)
with a message that names the bad configuration key.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the subscriber is told about; `reply_key` picks the reply text."""

    # a class attribute; LimitError sets it per instance (one class, seven limits)
    reply_key: str = "error.temporary"

    def __init__(self, **facts: object) -> None:
        super().__init__(self.reply_key, facts)
        self.facts: dict[str, object] = dict(facts)

    def __str__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.facts.items())
        return f"{self.reply_key}({shown})"


# --- zones and hours -------------------------------------------------------------------


class UnknownZoneError(DomainError):
    reply_key = "zone.unknown"  # {zone, example}: the example names a zone that exists


class TooManyHoursError(DomainError):
    reply_key = "hours.too_many"  # {max_hours, example}


# --- paying ----------------------------------------------------------------------------


class NothingToPayError(DomainError):
    reply_key = "pay.free_now"  # {zone, until}: the whole interval is free


class PlateAlreadyActiveError(DomainError):
    reply_key = "pay.already_active"  # {zone, plate, end, example}: to the phone that paid


class PlateAlreadyPaidError(DomainError):
    reply_key = "pay.already_paid"  # {zone, plate, end}: to any other phone, no advice


class ChargePendingExistsError(DomainError):
    reply_key = "pay.pending_exists"  # {amount, operator_number}


class NothingPendingToConfirmError(DomainError):
    reply_key = "confirm.nothing_pending"  # {}


class AnswerTheOperatorError(DomainError):
    """`1`/`0` to the short number while the operator asks from its own number."""

    reply_key = "confirm.answer_operator"  # {amount, operator_number}


# --- extending and stopping ------------------------------------------------------------


class NoSessionToExtendError(DomainError):
    reply_key = "extend.no_session"  # {}


class AmbiguousExtendError(DomainError):
    reply_key = "extend.ambiguous"  # {plates, example}


class ExtensionTooLongError(DomainError):
    reply_key = "extend.too_long"  # {max_hours, example?}: the longest extension that fits


class NoSessionToStopError(DomainError):
    reply_key = "stop.no_session"  # {}


class AmbiguousStopError(DomainError):
    reply_key = "stop.ambiguous"  # {plates, example}


# --- operators and their limits (raised by smsgw.domain.limits / operators) ------------


class OperatorUnsupportedError(DomainError):
    reply_key = "operator.unsupported"  # {operator}


class OperatorOtherCurrencyError(DomainError):
    """The phone's operator bills in another currency than the zone (MTS in Almaty)."""

    reply_key = "operator.other_currency"  # {zone, city, operator}


class LimitError(DomainError):
    """A payment that would break the operator's limit policy: {operator, limit, amount}.

    One class for every limit: which limit it is, is the reply key the instance carries
    (a `smsgw.domain.limits.LimitKind` value such as "limit.per_day_amount")."""

    def __init__(self, reply_key: str, **facts: object) -> None:
        self.reply_key = reply_key
        super().__init__(**facts)


# --- not replies -----------------------------------------------------------------------


class InvalidTransitionError(Exception):
    """A session asked to change state in a way its state table lacks: a caller bug."""


class ConfigError(ValueError):
    """A bad configuration value; the message starts with the key, e.g. `zones[1].name`."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem
