"""Kannel delivery reports: `GET /dlr/kannel/{link}?secret=S&id=<outbox id>&type=%d`.

Only HTTP (kannel) links have this endpoint, and each report must carry the link's
secret (`KannelSender` puts it into the dlr-url it gives Kannel): otherwise anyone could
mark a reply as failed by guessing its id.

`KannelSender` puts our outbox id into the dlr-url it gives Kannel, and Kannel fills in
`%d`, the report type. Only final reports change the outbox; "buffered" and "SMSC
submit" are acknowledged and otherwise ignored. A report that matches no sent message is
acknowledged too (there is nothing a retry would change); 503 only when it could not be
recorded, so Kannel tries again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import structlog
from aiohttp import web

from smsgw.service.ports import OutboxState
from smsgw.transport.http_common import (
    INVALID_FIELD,
    MISSING_FIELD,
    NOT_STORED,
    HttpError,
    HttpLink,
    authorised_link,
)

log = structlog.get_logger(__name__)

AcceptReceipt = Callable[[str, str, OutboxState], Awaitable[bool]]

# Kannel's dlr-mask / %d values
DLR_DELIVERED = 1
DLR_FAILED = 2
DLR_BUFFERED = 4
DLR_SMSC_SUBMIT = 8
DLR_SMSC_REJECT = 16

FINAL_STATES: Mapping[int, OutboxState] = {
    DLR_DELIVERED: OutboxState.DELIVERED,
    DLR_FAILED: OutboxState.FAILED,
    DLR_SMSC_REJECT: OutboxState.FAILED,
}


class DlrEndpoints:
    def __init__(self, accept_receipt: AcceptReceipt, links: Mapping[str, HttpLink]) -> None:
        self.accept_receipt = accept_receipt
        self.links = links

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/dlr/kannel/{link}", self.kannel)

    async def kannel(self, request: web.Request) -> web.Response:
        link_id, link = authorised_link(request, self.links)
        operator_id = link.operator
        message_id = request.query.get("id", "").strip()
        if not message_id:
            raise HttpError(MISSING_FIELD, "id is required")
        report_type = _report_type(request.query.get("type"))
        state = FINAL_STATES.get(report_type)
        if state is None:
            return _acknowledged()  # an intermediate report: nothing to record
        try:
            matched = await self.accept_receipt(operator_id, message_id, state)
        except Exception:
            log.exception("dlr.not_stored", link=link_id)
            raise HttpError(
                NOT_STORED, "the report could not be recorded; try again later"
            ) from None
        if not matched:
            log.info("dlr.unmatched", link=link_id, message_id=message_id)
        return _acknowledged()


def _report_type(raw: str | None) -> int:
    if raw is None or not raw.strip():
        raise HttpError(MISSING_FIELD, "type is required")
    try:
        return int(raw.strip())
    except ValueError:
        raise HttpError(INVALID_FIELD, "type must be a whole number (Kannel's %d)") from None


def _acknowledged() -> web.Response:
    return web.Response(status=200, content_type="text/plain", text="ok")
