"""A bare ESME over a real TCP socket, for the bench's SMSC-side tests: binds, sends
requests, reads whatever comes, in the order it comes (SMPP 3.4 framing)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from smsgw.smpp.codec import Framer, decode, encode
from smsgw.smpp.pdu import Pdu

READ_TIMEOUT = 5.0


class BareEsme:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.framer = Framer()
        self.pending: list[Pdu] = []
        self.sequence = itertools.count(1)

    @classmethod
    async def connect(cls, port: int) -> BareEsme:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, pdu: Pdu) -> Pdu:
        if not pdu.sequence_number:
            pdu.sequence_number = next(self.sequence)
        self.writer.write(encode(pdu))
        return pdu

    def send_raw(self, frame: bytes) -> None:
        self.writer.write(frame)

    async def read(self) -> Pdu:
        async with asyncio.timeout(READ_TIMEOUT):
            while not self.pending:
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError("the SMSC closed the connection")
                self.pending += [decode(frame) for frame in self.framer.feed(data)]
        return self.pending.pop(0)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
