"""Once through a real Kannel (docs/kannel.md).

    phone ─▶ SimulatedSmsc ─deliver_sm─▶ bearerbox ─▶ smsbox ─get-url─▶ gateway
    phone ◀─ SimulatedSmsc ◀─submit_sm── bearerbox ◀─ smsbox ◀─sendsms── gateway

Debian's bearerbox binds to our simulated SMSC as a transceiver; its smsbox hands every
MO to the gateway's /mo/kannel/<link> and sends the gateway's replies. The gateway runs
in-process with a settable clock shared with the simulated operator, so the operator's
signed callbacks are accepted. Without Kannel the tests skip, except under CI=true,
where they fail.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulator.bench.kannel import (
    KannelBinaries,
    RunningKannel,
    find_kannel,
    kannel_ports,
    status_says_ready,
)
from simulator.config import SmscAccount, SmscSettings
from simulator.operator import OperatorSimulator
from simulator.phones import ConfirmationPolicy, PhoneBook, VirtualPhone
from simulator.smsc import ReceivedMt, SimulatedSmsc
from simulator.smsc_server import SmscConnection
from smsgw.bootstrap import RunningGateway, start_gateway
from smsgw.config import AppConfig, config_from_mapping, read_operator_files
from smsgw.domain.money import Money
from smsgw.service.messages import OutboundSms
from smsgw.service.ports import OutboxState, StoredOutbound
from smsgw.service.store_port import Tx
from smsgw.smpp.constants import ESM_UDHI, CommandStatus
from smsgw.smpp.gsm7 import DEFAULT_ALPHABET, EXTENSION_TABLE
from smsgw.smpp.pdu import DeliverSm, SubmitSm, SubmitSmResp
from smsgw.smpp.text import encode_text
from smsgw.transport.http_sender import KannelSender
from tests.e2e.kannel import (
    LOG_TAIL_CHARS,
    KannelSetup,
    SendsmsCall,
    SendsmsRecorder,
    kannel_config,
    running_kannel_for,
    wait_until,
)
from tests.e2e.rig import REPO, SHORT_NUMBER, T0, TOKEN, SettableClock, secret_for

# one Kannel at a time across the parallel test processes (pyproject's addopts): its ports
# are picked free just before its boxes bind them, and a second Kannel could pick the same
pytestmark = pytest.mark.xdist_group("kannel")

DRIVER = "79161234567"
OPERATOR = "mts"
LINK_ID = "kannel-mts"
LINK_SECRET = "kannel-mts-e2e-secret-0123"
SYSTEM_ID = "kannel-mts"
SMPP_PASSWORD = "kpw"
GSM7 = 0
UCS2 = 8
REPLY_TIMEOUT = 10.0  # each hop is local; Kannel answers within milliseconds


def require_kannel() -> KannelBinaries:
    binaries = find_kannel()
    if binaries is None:
        reason = "Kannel's bearerbox/smsbox are not installed (apt-get install kannel)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return binaries


@dataclass(frozen=True, slots=True)
class Segment:
    """One submit_sm as Kannel sent it, and the message id the SMSC gave it."""

    pdu: SubmitSm
    message_id: str


class RecordingSmsc(SimulatedSmsc):
    """The simulated SMSC that also keeps every submit_sm segment as Kannel sent it."""

    def __init__(self, settings: SmscSettings) -> None:
        super().__init__(settings)
        self.segments: list[Segment] = []

    def _on_submit(self, connection: SmscConnection, pdu: SubmitSm) -> SubmitSmResp | int:
        answer = super()._on_submit(connection, pdu)
        if isinstance(answer, SubmitSmResp):
            self.segments.append(Segment(pdu, answer.message_id))
        return answer


def _paid_all_day(zone: dict[str, Any]) -> dict[str, Any]:
    # the tests must not depend on the hour or on a holiday
    zone = {
        key: value for key, value in zone.items() if key not in ("holidays", "holiday_calendar")
    }
    zone["paid"] = [{"days": "Mon-Sun", "from": "00:00", "to": "24:00"}]
    return zone


def kannel_gateway_config(
    tmp_path: Path, sendsms_url: str, setup_user: tuple[str, str], charging_url: str
) -> AppConfig:
    raw: dict[str, Any] = tomllib.loads((REPO / "config.toml").read_text("utf-8"))
    raw.pop("simulator", None)
    raw["storage"] = {"dsn": f"sqlite:///{tmp_path / 'gateway.sqlite3'}"}
    raw["http"] = {"host": "127.0.0.1", "port": 0, "api_token": TOKEN}
    raw["logging"] = {"level": "warning", "json": True}
    username, password = setup_user
    raw["links"] = [
        {
            "id": LINK_ID,
            "operator": OPERATOR,
            "type": "kannel",
            "sendsms_url": sendsms_url,
            "username": username,
            "password": password,
            "smsc": OPERATOR,  # Kannel's smsc-id of the bind
            "secret": LINK_SECRET,  # in the get-url we give Kannel and in every dlr-url
        }
    ]
    raw["charging"] = {OPERATOR: {"url": charging_url, "secret": secret_for(OPERATOR)}}
    raw["zones"] = [_paid_all_day(zone) for zone in raw["zones"]]
    return config_from_mapping(raw, read_operator_files(REPO / "operators"))


@dataclass
class KannelRig:
    gateway: RunningGateway
    smsc: RecordingSmsc
    operator: OperatorSimulator
    phones: PhoneBook
    clock: SettableClock
    kannel: RunningKannel
    sendsms: SendsmsRecorder
    setup: KannelSetup

    def kannel_logs(self) -> str:
        return self.kannel.log_tail(LOG_TAIL_CHARS)

    def phone(self, msisdn: str, rubles: int = 1000) -> VirtualPhone:
        policy = ConfirmationPolicy.CONFIRM
        return self.phones.add(VirtualPhone(msisdn, OPERATOR, Money(rubles * 100, "RUB"), policy))

    async def text(self, msisdn: str, text: str) -> None:
        status = await self.smsc.send_mo(OPERATOR, msisdn, SHORT_NUMBER, text)
        assert status == CommandStatus.ESME_ROK, self.kannel_logs()

    async def text_gsm7(self, msisdn: str, text: str) -> None:
        """The phone texts in the GSM 7-bit alphabet (data_coding 0), as most phones do
        with Latin text; `send_mo` always uses UCS-2."""
        (connection,) = self.smsc.server.bound  # Kannel's one transceiver bind
        pdu = DeliverSm(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=msisdn,
            destination_addr=SHORT_NUMBER,
            data_coding=GSM7,
            short_message=encode_text(text, GSM7),
        )
        response = await connection.deliver(pdu)
        assert response.command_status == CommandStatus.ESME_ROK, self.kannel.log_tail(
            LOG_TAIL_CHARS
        )

    async def replies(self, msisdn: str, count: int) -> list[ReceivedMt]:
        """The messages `msisdn` got, once there are `count`; Kannel's logs on timeout."""
        try:
            await self.smsc.wait_for_texts(msisdn, count, timeout=REPLY_TIMEOUT)
        except TimeoutError:
            pytest.fail(
                f"{count} replies expected, got {self.smsc.inbox[msisdn]}\n{self.kannel_logs()}"
            )
        return list(self.smsc.inbox[msisdn])

    async def converse(self, msisdn: str, text: str) -> ReceivedMt:
        before = len(self.smsc.inbox[msisdn])
        await self.text(msisdn, text)
        return (await self.replies(msisdn, before + 1))[before]

    async def sendsms_call_for(self, text: str) -> SendsmsCall:
        """The gateway's sendsms request that carried `text`, with Kannel's answer."""
        try:
            return await self.sendsms.answered_call(text, REPLY_TIMEOUT)
        except TimeoutError:
            pytest.fail(f"no sendsms request carried {text!r}: {self.sendsms.calls}")

    async def outbound(self, outbox_id: str) -> StoredOutbound:
        async def read(tx: Tx) -> StoredOutbound:
            row = await tx.get_outbound(outbox_id)
            assert row is not None, outbox_id
            return row

        return await self.gateway.store.transact(read)

    def segments_to(self, msisdn: str) -> list[SubmitSm]:
        return [s.pdu for s in self.smsc.segments if s.pdu.destination_addr == msisdn]

    def message_ids_to(self, msisdn: str) -> list[str]:
        return [s.message_id for s in self.smsc.segments if s.pdu.destination_addr == msisdn]

    async def wait_for_state(self, outbox_id: str, state: OutboxState) -> None:
        async def reached() -> bool:
            return (await self.outbound(outbox_id)).state is state

        try:
            await wait_until(reached, REPLY_TIMEOUT, f"outbox {outbox_id} {state}")
        except TimeoutError as error:
            pytest.fail(f"{error}\n{self.kannel_logs()}")


@asynccontextmanager
async def running_kannel_rig(tmp_path: Path, binaries: KannelBinaries) -> AsyncIterator[KannelRig]:
    clock = SettableClock()
    phones = PhoneBook()
    async with AsyncExitStack() as stack:
        smsc = RecordingSmsc(
            SmscSettings("127.0.0.1", 0, (SmscAccount(SYSTEM_ID, SMPP_PASSWORD, OPERATOR),))
        )
        await smsc.start()
        stack.push_async_callback(smsc.close)
        operator = OperatorSimulator(OPERATOR, secret_for(OPERATOR), phones, clock=clock.now)
        await operator.start()
        stack.push_async_callback(operator.close)
        # Kannel's ports go into its configuration, so they are chosen first; the
        # get-url is known once the gateway listens
        setup = KannelSetup(
            smsc.port, SYSTEM_ID, SMPP_PASSWORD, "", kannel_ports(), tmp_path / "kannel"
        )
        # the gateway's replies pass a recorder on their way to Kannel's sendsms
        sendsms = SendsmsRecorder(setup.sendsms_url)
        await sendsms.start()
        stack.push_async_callback(sendsms.close)
        config = kannel_gateway_config(
            tmp_path,
            sendsms.url,
            (setup.sendsms_username, setup.sendsms_password),
            operator.base_url,
        )
        gateway = await start_gateway(config, clock=clock)
        stack.push_async_callback(gateway.stop)
        setup = replace(
            setup, mo_base_url=f"{gateway.base_url}/mo/kannel/{LINK_ID}", mo_secret=LINK_SECRET
        )
        kannel = await stack.enter_async_context(running_kannel_for(binaries, setup))
        yield KannelRig(gateway, smsc, operator, phones, clock, kannel, sendsms, setup)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[KannelRig]:
    binaries = require_kannel()
    async with running_kannel_rig(tmp_path, binaries) as rig:
        yield rig


# --- through Kannel ------------------------------------------------------------------------


async def test_cyrillic_pay_through_kannel_comes_back_whole_and_exact(rig: KannelRig) -> None:
    phone = rig.phone(DRIVER, rubles=500)
    await rig.text(DRIVER, "1001*а123вс77*2")
    asked, started = await rig.replies(DRIVER, 2)
    await rig.operator.settle()
    # the Cyrillic plate crossed Kannel intact: the gateway parsed it and it is charged
    charges = list(rig.operator.charges.values())
    assert [charge.request.amount for charge in charges] == [Money(120_00, "RUB")]
    assert charges[0].request.msisdn == DRIVER
    assert phone.balance == Money(500_00 - 120_00, "RUB")
    assert phone.texts_from("7701"), "the operator asked the subscriber to confirm"
    assert "120" in asked.text
    assert "A123BC77" in started.text and "1001" in started.text and "11:00" in started.text
    for reply in (asked, started):
        assert reply.source == SHORT_NUMBER and reply.operator == OPERATOR
        call = await rig.sendsms_call_for(reply.text)
        assert call.status == 202, call.answer
        assert call.query["coding"] == b"2" and call.query["charset"] == b"UTF-16BE"
        # what the phone shows is exactly what the gateway wrote in its outbox
        assert (await rig.outbound(call.dlr_id)).sms.text == reply.text
    segments = rig.segments_to(DRIVER)
    assert segments and all(pdu.data_coding == UCS2 for pdu in segments)
    # Kannel sent nothing of its own (max-messages = 0): only what the gateway asked for
    sent_by_gateway = [call.text for call in rig.sendsms.calls]
    assert [message.text for message in rig.smsc.inbox[DRIVER]] == sent_by_gateway


async def test_long_reply_arrives_whole_through_kannel_concatenation(rig: KannelRig) -> None:
    rig.phone(DRIVER)
    help_reply = await rig.converse(DRIVER, "?")
    call = await rig.sendsms_call_for(help_reply.text)
    stored = await rig.outbound(call.dlr_id)
    assert help_reply.text == stored.sms.text
    assert len(help_reply.text) > 70, "long enough to need several UCS-2 parts"
    segments = rig.segments_to(DRIVER)
    assert len(segments) >= 2, "Kannel split it"
    assert all(pdu.data_coding == UCS2 and pdu.esm_class & ESM_UDHI for pdu in segments)


async def test_latin_text_goes_both_ways_in_the_gsm_alphabet(rig: KannelRig) -> None:
    rig.phone(DRIVER)
    await rig.text_gsm7(DRIVER, "lang*en")
    (language_set,) = await rig.replies(DRIVER, 1)
    call = await rig.sendsms_call_for(language_set.text)
    assert call.query["coding"] == b"0" and call.status == 202
    assert (await rig.outbound(call.dlr_id)).sms.text == language_set.text
    assert "English" in language_set.text
    help_reply = await rig.converse(DRIVER, "?")
    assert "1001*A123BC77*2" in help_reply.text and "LANG*RU" in help_reply.text
    assert [pdu.data_coding for pdu in rig.segments_to(DRIVER)] == [GSM7, GSM7]


async def test_delivery_report_from_kannel_reaches_the_outbox(rig: KannelRig) -> None:
    rig.phone(DRIVER)
    status_reply = await rig.converse(DRIVER, "I")
    assert len(rig.segments_to(DRIVER)) == 1, "a one-part reply, so one receipt covers it"
    outbox_id = (await rig.sendsms_call_for(status_reply.text)).dlr_id
    await rig.wait_for_state(outbox_id, OutboxState.SENT)  # Kannel answered 202
    assert await rig.smsc.send_receipt(status_reply) == CommandStatus.ESME_ROK
    await rig.wait_for_state(outbox_id, OutboxState.DELIVERED)


async def test_a_long_reply_is_delivered_once_every_part_is(rig: KannelRig) -> None:
    rig.phone(DRIVER)
    help_reply = await rig.converse(DRIVER, "?")
    outbox_id = (await rig.sendsms_call_for(help_reply.text)).dlr_id
    part_ids = rig.message_ids_to(DRIVER)
    assert len(part_ids) >= 2
    # Kannel 1.4.5 keeps one report per part and calls the dlr-url once, for the whole
    for part_id in reversed(part_ids):
        receipt = replace(help_reply, message_id=part_id)
        assert await rig.smsc.send_receipt(receipt) == CommandStatus.ESME_ROK
    await rig.wait_for_state(outbox_id, OutboxState.DELIVERED)


async def test_every_gsm_character_and_kazakh_letter_survives_kannel(rig: KannelRig) -> None:
    # the gateway's sender straight to Kannel: GSM text goes as UTF-8 (coding=0) and
    # Kannel must turn it into GSM septets, escapes included; the rest as UTF-16BE
    gsm_text = DEFAULT_ALPHABET.replace("\x1b", "") + "".join(EXTENSION_TABLE.values())
    texts = [gsm_text, "Тұрақ 7001: әғқңөұүһі, 500 ₸ «төленді»", "14\u202f999 ₽ до 11:00"]
    async with aiohttp.ClientSession() as session:
        sender = KannelSender(
            rig.setup.sendsms_url,
            rig.setup.sendsms_username,
            rig.setup.sendsms_password,
            OPERATOR,
            session,
            dlr_url_template="",
        )
        for number, text in enumerate(texts):
            sms = OutboundSms(f"probe-{number}", OPERATOR, SHORT_NUMBER, DRIVER, text, T0)
            await sender.send(sms)
    received = await rig.replies(DRIVER, len(texts))
    assert [message.text for message in received] == texts
    assert rig.segments_to(DRIVER)[0].data_coding == GSM7


# --- the configuration we give Kannel (no Kannel needed) -------------------------------------


def _setup(tmp_path: Path) -> KannelSetup:
    ports = kannel_ports()
    return KannelSetup(
        2775, "sys", "pw", "http://127.0.0.1:1/mo/kannel/x", ports, tmp_path, mo_secret="s-1"
    )


def _group_text(config: str, name: str) -> str:
    (group,) = [part for part in config.split("\n\n") if part.startswith(f"group = {name}\n")]
    return group


def test_the_sms_service_sends_no_reply_of_its_own(tmp_path: Path) -> None:
    service = _group_text(kannel_config(_setup(tmp_path)), "sms-service")
    assert "max-messages = 0\n" in service
    get_url = next(line for line in service.splitlines() if line.startswith("get-url"))
    for code in ("sender=%p", "receiver=%P", "text=%b", "coding=%c", "charset=%C", "id=%I"):
        assert code in get_url
    assert "?secret=s-1&" in get_url, "every MO carries the link's secret"


def test_the_sendsms_user_may_send_concatenated_replies(tmp_path: Path) -> None:
    user = _group_text(kannel_config(_setup(tmp_path)), "sendsms-user")
    assert "concatenation = true\n" in user
    assert "max-messages = 10\n" in user


def test_a_value_that_would_break_the_file_is_refused(tmp_path: Path) -> None:
    setup = KannelSetup(2775, 'sy"s', "pw", "http://x/", kannel_ports(), tmp_path)
    with pytest.raises(ValueError, match="cannot hold"):
        kannel_config(setup)


def _status_xml(smsc_id: str, smsc_status: str, boxes: str) -> str:
    # the shape of bearerbox 1.4.5's /status.xml, cut to what readiness reads
    return (
        '<?xml version="1.0"?><gateway><status>running, uptime 0d 0h 0m 1s</status>'
        f"<boxes>{boxes}</boxes><smscs><count>1</count><smsc><id>{smsc_id}</id>"
        f"<status>{smsc_status}</status></smsc></smscs></gateway>"
    )


SMSBOX_ONLINE = "<box><type>smsbox</type><status>on-line 0d 0h 0m 0s</status></box>"


def test_ready_only_with_the_smsc_online_and_an_smsbox_connected() -> None:
    assert status_says_ready(_status_xml("mts", "online 1s", SMSBOX_ONLINE), "mts")
    assert not status_says_ready(_status_xml("mts", "online 1s", ""), "mts")
    assert not status_says_ready(_status_xml("mts", "connecting", SMSBOX_ONLINE), "mts")
    assert not status_says_ready(_status_xml("mts", "online 1s", SMSBOX_ONLINE), "beeline")
    assert not status_says_ready("<gateway><smscs>", "mts")


def test_without_kannel_ci_fails_and_a_developer_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "find_kannel", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        require_kannel()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        require_kannel()
