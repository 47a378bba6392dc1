"""smpplib's own (blocking) client against our SmscServer: bind, submit, deliver, unbind."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import smpplib.client

from simulator.smsc_server import SmscServer
from smsgw.smpp.constants import CommandId, CommandStatus
from smsgw.smpp.pdu import DeliverSm
from tests.transport.conftest import GUARD, Recorder


class SmpplibSession:
    """Runs smpplib in a thread; the steps are the ones a real third-party ESME takes."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sent: list[Any] = []
        self.received: list[Any] = []
        self.unbind_status: int | None = None

    def run(self) -> None:
        client: Any = smpplib.client.Client(
            "127.0.0.1", self.port, timeout=GUARD, allow_unknown_opt_params=True
        )
        client.set_message_sent_handler(lambda pdu, **_: self.sent.append(pdu))
        client.set_message_received_handler(lambda pdu, **_: self.received.append(pdu))
        client.connect()
        try:
            client.bind_transceiver(system_id="esme", password="secret")
            client.send_message(
                source_addr_ton=1,
                source_addr="79001234567",
                dest_addr_ton=0,
                destination_addr="7757",
                short_message=b"1001*A123BC77*2",
            )
            # The submit_sm_resp and the deliver_sm may come in either order.
            while not (self.sent and self.received):
                client.read_once()
            self.unbind_status = int(client.unbind().status)
        finally:
            client.disconnect()


async def test_smpplib_client_binds_submits_receives_and_unbinds(
    server: SmscServer, recorder: Recorder
) -> None:
    session = SmpplibSession(server.port)
    loop = asyncio.get_running_loop()
    thread_done: asyncio.Future[None] = loop.create_future()

    def run_in_thread() -> None:
        try:
            session.run()
        except BaseException as error:  # surfaced to the test below
            loop.call_soon_threadsafe(thread_done.set_exception, error)
        else:
            loop.call_soon_threadsafe(thread_done.set_result, None)

    thread = threading.Thread(target=run_in_thread, daemon=True)
    thread.start()
    try:
        await recorder.until(lambda: len(recorder.bound) == 1 and len(recorder.submits) == 1)
        (connection,) = recorder.bound
        assert connection.bind_type == CommandId.BIND_TRANSCEIVER
        assert connection.system_id == "esme"
        _, submitted = recorder.submits[0]
        assert submitted.short_message == b"1001*A123BC77*2"
        assert (submitted.source_addr, submitted.destination_addr) == ("79001234567", "7757")
        async with asyncio.timeout(GUARD):
            answer = await connection.deliver(
                DeliverSm(source_addr="7757", destination_addr="79001234567", short_message=b"OK")
            )
            await thread_done
    finally:
        thread.join(GUARD)
    assert answer.command_status == CommandStatus.ESME_ROK
    assert [pdu.short_message for pdu in session.received] == [b"OK"]
    assert [pdu.message_id for pdu in session.sent] == [b"1"]
    assert session.unbind_status == CommandStatus.ESME_ROK
    await recorder.until(lambda: len(recorder.unbound) == 1)
