"""Two SMPP sessions wired together in memory, in the manner of h11's test helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

from smsgw.smpp.codec import Framer, decode
from smsgw.smpp.events import BindRequest, BindRequested, Bound, Event, Role
from smsgw.smpp.pdu import BindTransceiver, Pdu
from smsgw.smpp.session import Session, SessionConfig


def feed(session: Session, data: bytes, now: float, *, bytewise: bool) -> list[Event]:
    """Give ``data`` to ``session`` whole, or one byte per call."""
    if not bytewise:
        return session.receive_data(data, now)
    events: list[Event] = []
    for index in range(len(data)):
        events.extend(session.receive_data(data[index : index + 1], now))
    return events


def pdus_in(data: bytes) -> list[Pdu]:
    """Decode every frame in ``data`` (which must hold only whole frames)."""
    framer = Framer()
    frames = framer.feed(data)
    assert framer.buffered == 0, "trailing partial frame"
    return [decode(frame) for frame in frames]


@dataclass
class SessionPair:
    """An ESME and an SMSC session connected by in-memory byte transfer."""

    config: SessionConfig = field(default_factory=SessionConfig)
    bytewise: bool = False
    now: float = 0.0
    esme: Session = field(init=False)
    smsc: Session = field(init=False)

    def __post_init__(self) -> None:
        self.esme = Session(Role.ESME, self.config, now=self.now)
        self.smsc = Session(Role.SMSC, self.config, now=self.now)

    def to_smsc(self, now: float | None = None) -> list[Event]:
        """Move everything the ESME queued to the SMSC; the SMSC's events."""
        return feed(self.smsc, self.esme.data_to_send(), self._at(now), bytewise=self.bytewise)

    def to_esme(self, now: float | None = None) -> list[Event]:
        """Move everything the SMSC queued to the ESME; the ESME's events."""
        return feed(self.esme, self.smsc.data_to_send(), self._at(now), bytewise=self.bytewise)

    def bind(self, bind_class: type[BindRequest] = BindTransceiver) -> Bound:
        """Bind the ESME to the SMSC; returns the ESME's Bound event."""
        self.esme.bind("esme", "secret", self.now, bind_class=bind_class)
        (requested,) = self.to_smsc()
        assert isinstance(requested, BindRequested)
        self.smsc.accept_bind(requested.request, system_id="smsc")
        (bound,) = self.to_esme()
        assert isinstance(bound, Bound)
        return bound

    def _at(self, now: float | None) -> float:
        return self.now if now is None else now
