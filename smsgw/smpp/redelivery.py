"""When may an SMSC send a stored MO again? (sans-IO: times come in as seconds).

SMPP gives an MO no id of its own. An SMSC sends a deliver_sm again when it did not get
a deliver_sm_resp with ESME_ROK for it: the answer was an error, it was never written
(the gateway stopped between storing and answering), or it was written so shortly
before the bind went down that it may have been lost with the connection. It resends
on a new bind, after a reconnect or a restart of the gateway. A repeat of a message
with none of these, or on the same bind, is the driver texting again.
"""

from __future__ import annotations

from typing import Final

# An answer written this close before its bind went down may have been lost with it.
ANSWER_LOST_SECONDS: Final = 2.0
# How long a stored MO is remembered for recognising its redelivery: SMSCs give up on
# an undeliverable MO well within a day.
REMEMBER_SECONDS: Final = 24 * 3600.0
# How often what is older than that is forgotten.
FORGET_EVERY_SECONDS: Final = 60.0
ESME_ROK: Final = 0


def may_be_redelivered(
    *,
    answered_at: float | None,
    answer_status: int | None,
    bind_down_at: float | None,
    grace: float = ANSWER_LOST_SECONDS,
) -> bool:
    """Whether the SMSC may still send this MO again on a newer bind.

    `bind_down_at` is when the bind it was answered on went down, or was last known up
    (a gateway killed never says when its bind ended); None when that bind is unknown.
    """
    if answered_at is None or answer_status != ESME_ROK:
        return True
    if bind_down_at is None:
        return False  # forgotten long ago: the SMSC has given up on it too
    return answered_at >= bind_down_at - grace


class Forgetting:
    """When remembered MOs are forgotten: a round every ``every`` seconds (the first at
    once) forgets those answered more than ``remember`` seconds before it."""

    def __init__(
        self, *, every: float = FORGET_EVERY_SECONDS, remember: float = REMEMBER_SECONDS
    ) -> None:
        self.every = every
        self.remember = remember
        self._last_round: float | None = None

    def get_timer(self) -> float | None:
        """When the next round is due; None: due now (no round yet)."""
        return None if self._last_round is None else self._last_round + self.every

    def handle_timer(self, now: float) -> float | None:
        """Start a round if one is due at ``now``: returns the cutoff (forget what was
        answered before it), or None when no round is due."""
        due = self.get_timer()
        if due is not None and now < due:
            return None
        self._last_round = now
        return now - self.remember
