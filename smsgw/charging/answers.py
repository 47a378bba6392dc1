"""What an operator's HTTP answer means for a charge, as a `ChargeAnswer`.

The rule that shapes every mapping: FAILED is final (the charge is cancelled and the
subscriber told), so it is given only when the operator has certainly not taken the
money. Anything that leaves doubt is UNKNOWN, and the service asks again later: the
request is idempotent by charge id, so asking again cannot charge twice.
"""

from __future__ import annotations

from smsgw.charging.protocol import (
    OUTCOME_OF_STATUS,
    ChargeView,
    MalformedBodyError,
    json_object,
)
from smsgw.service.ports import ChargeAnswer, ChargeOutcome

# 4xx answers that mean "not now" rather than "no": request timeout, too early, rate limit.
TRANSIENT_CLIENT_ERRORS = frozenset({408, 425, 429})
_MAX_DETAIL_CHARS = 200


def answer_to_request(charge_id: str, status: int, body: bytes) -> ChargeAnswer:
    """The answer to `POST /charges`.

    2xx: the status in the body. A 4xx other than the transient ones: the operator
    refused to create the charge (bad request, bad signature, 409 same id for another
    charge), so nothing was taken: FAILED. 5xx and the rest: UNKNOWN."""
    if 200 <= status < 300:
        return _view_answer(charge_id, body)
    if 400 <= status < 500 and status not in TRANSIENT_CLIENT_ERRORS:
        return ChargeAnswer(ChargeOutcome.FAILED, detail=_error_detail(status, body))
    return ChargeAnswer(ChargeOutcome.UNKNOWN, detail=_error_detail(status, body))


def answer_to_poll(charge_id: str, status: int, body: bytes) -> ChargeAnswer:
    """The answer to `GET /charges/{id}`.

    Only a 200 with a status tells anything about the charge. Every other answer is
    UNKNOWN, 404 included: our request may still be on its way to the operator, and
    the cure for "no such charge" is to send the (idempotent) request again."""
    if status == 200:
        return _view_answer(charge_id, body)
    return ChargeAnswer(ChargeOutcome.UNKNOWN, detail=_error_detail(status, body))


def _view_answer(charge_id: str, body: bytes) -> ChargeAnswer:
    try:
        view = ChargeView.from_json(body)
    except MalformedBodyError as error:
        return ChargeAnswer(ChargeOutcome.UNKNOWN, detail=f"unreadable answer: {error}")
    if view.charge_id != charge_id:
        # an answer about another charge says nothing about ours
        return ChargeAnswer(ChargeOutcome.UNKNOWN, detail="answer names another charge_id")
    return ChargeAnswer(
        OUTCOME_OF_STATUS[view.status],
        operator_reference=view.operator_reference,
        detail=view.reason or "",
        reason=view.reason,
    )


def _error_detail(status: int, body: bytes) -> str:
    """`http 409: conflict: ...` from the protocol's error body when there is one."""
    try:
        fields = json_object(body)
    except MalformedBodyError:
        return f"http {status}"
    parts = [str(fields[key]) for key in ("error", "detail") if isinstance(fields.get(key), str)]
    text = ": ".join([f"http {status}", *parts])
    return text[:_MAX_DETAIL_CHARS]
