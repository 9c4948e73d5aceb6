"""The PC/SC driver against a real pcscd, with vsmartcard's virtual reader (vpcd) and our virtual
card in it: discovery, card events, status words, every fault, pcscd down and restarted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.apdu import GET_UID, PcscError, StatusWordError
from drivers.base import DeviceState
from drivers.pcsc_reader import (
    PcscContext,
    PcscReader,
    SimulatedPcscReader,
    SmartCardEvent,
    SmartCardEventKind,
    read_once,
)
from drivers.sim_vpcd import APPLET_AID, APPLET_LABEL, APPLET_RECORD, DEFAULT_ATR, VirtualCard
from tests.pcscd_daemon import Pcscd, pcscd_or_skip, readers
from tests.processes import kiosk_simulator
from tests.waiting import wait_for

pytest.importorskip("smartcard.scard", reason="pyscard is not installed")

# vpcd's second reader: the first (35963) is left to a terminal running --simulate nearby.
PORT, READER = 35964, "Virtual PCD 00 01"
UID = bytes.fromhex("04A1B2C3D4E5F6")
# What a card that leaves mid-command comes out as. vpcd hands pcscd an empty answer with
# success (no_answer); a real reader says the transaction failed or the card was removed.
CARD_GONE = ("no_answer", "transmit_failed", "card_removed", "no_card")
SELECT_APPLET = bytes((0x00, 0xA4, 0x04, 0x00, len(APPLET_AID))) + APPLET_AID + b"\x00"


@pytest.fixture(scope="module")
def pcscd() -> Iterator[Pcscd]:
    daemon = pcscd_or_skip(READER)
    yield daemon
    daemon.stop()


def _reader_empty() -> bool:
    with PcscContext() as context:
        states = context.wait([(READER, 0)], 0.5) or []
    return all(not st.event & context.flags.SCARD_STATE_PRESENT for st in states)


@pytest.fixture
def card(pcscd: Pcscd) -> Iterator[VirtualCard]:
    vc = VirtualCard(port=PORT, mute_timeout=0.5)
    vc.start()
    yield vc
    vc.stop()
    wait_for(_reader_empty, timeout=3)  # pcscd polls vpcd: let it see the card go


class Events:
    def __init__(self) -> None:
        self.seen: list[SmartCardEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: SmartCardEvent) -> None:
        with self._lock:
            self.seen.append(event)

    def kinds(self) -> list[SmartCardEventKind]:
        with self._lock:
            return [e.kind for e in self.seen]

    def wait(self, *kinds: SmartCardEventKind, timeout: float = 5.0) -> None:
        wait_for(lambda: self.kinds() == list(kinds), timeout=timeout)


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def reader(card: VirtualCard, events: Events) -> Iterator[PcscReader]:
    rd = PcscReader("smart_card_reader", "00 01")
    rd.add_card_listener(events)
    rd.start()
    wait_for(lambda: rd.status.state is DeviceState.READY)
    yield rd
    rd.stop()


def test_readers_are_discovered(pcscd: Pcscd) -> None:
    assert {"Virtual PCD 00 00", READER} <= set(readers())
    rd = PcscReader("smart_card_reader", "pcd 00 01")  # a part of the name, any case
    rd.start()
    try:
        wait_for(lambda: rd.status.state is DeviceState.READY)
        assert rd.reader == READER and rd.status.fault is None
    finally:
        rd.stop()
    assert rd.status.state is DeviceState.ABSENT


def test_a_reader_that_is_not_there_is_a_state(pcscd: Pcscd) -> None:
    rd = PcscReader("smart_card_reader", "Acme 9000")
    rd.start()
    try:
        wait_for(lambda: rd.status.fault is not None)
        st = rd.status
        assert st.state is DeviceState.ABSENT and st.fault is not None
        assert st.fault.code == "reader_missing"
        assert st.fault.message_key == "device.smartcard_unavailable"
        assert "Acme 9000" in st.fault.detail and READER in st.fault.detail
    finally:
        rd.stop()


def test_insert_and_remove_are_events_with_atr_and_uid(
    card: VirtualCard, reader: PcscReader, events: Events
) -> None:
    started = time.monotonic()
    card.insert()
    events.wait(SmartCardEventKind.INSERTED)
    inserted = events.seen[0]
    assert inserted.reader == READER and inserted.card is not None
    assert (inserted.card.atr, inserted.card.uid) == (DEFAULT_ATR, UID)
    assert inserted.card.as_json() == {
        "reader": READER,
        "atr": "3B80800101",
        "uid": UID.hex().upper(),
    }
    assert time.monotonic() - started < 2  # pcscd polls vpcd about every 0.4 s
    assert reader.status.state is DeviceState.READY
    card.remove()
    events.wait(SmartCardEventKind.INSERTED, SmartCardEventKind.REMOVED)


def test_transmit_handles_61xx_and_6cxx(
    card: VirtualCard, reader: PcscReader, events: Events
) -> None:
    card.insert()
    wait_for(lambda: card.connected)
    # The reader's own look at the card (ATR, UID, a social-security holder) comes first: two
    # sessions interleaving a 61xx/GET RESPONSE pair would disturb each other, as on a real card.
    events.wait(SmartCardEventKind.INSERTED)
    with reader.session() as link:
        fci = link.transmit(SELECT_APPLET)  # 61xx, then GET RESPONSE
        assert fci.ok and APPLET_AID in fci.data and APPLET_LABEL in fci.data
        record = link.transmit(bytes.fromhex("00B2010400"))  # 256 bytes + 61 2C, then the rest
        assert record.data == APPLET_RECORD
        assert link.transmit(GET_UID[:-1] + b"\x02").data == UID  # 6C07: sent again with Le 07
        assert link.uid() == UID
        with pytest.raises(StatusWordError) as info:
            link.transmit(bytes.fromhex("00DD000000"))
        assert (info.value.sw, info.value.code) == (0x6D00, "ins_not_supported")
        assert "instruction not supported" in info.value.detail
        with pytest.raises(StatusWordError) as info:
            link.transmit(bytes.fromhex("80CA000000"))
        assert info.value.sw == 0x6E00
        unknown = bytes.fromhex("00A4040003A0000000")
        assert link.transmit(unknown, check=False).sw == 0x6A82
    assert reader.transmit(GET_UID).data == UID  # a one-shot session of its own


def test_garbage_from_the_card_is_a_failed_event_and_a_clear_error(
    card: VirtualCard, reader: PcscReader, events: Events
) -> None:
    card.inject("garbage")
    card.insert()
    events.wait(SmartCardEventKind.FAILED)
    fault = events.seen[0].fault
    assert fault is not None and fault.code == "bad_response"
    assert fault.message_key == "card.read_failed"
    assert reader.status.state is DeviceState.READY  # the reader is fine; the card was not
    with pytest.raises(PcscError) as info:
        reader.transmit(GET_UID)
    assert info.value.code == "bad_response" and "no status word" in info.value.detail
    card.inject("garbage", False)
    assert reader.transmit(GET_UID).data == UID  # the card stayed where it was


def test_a_card_pulled_mid_read_is_a_failed_event_then_removed(
    card: VirtualCard, reader: PcscReader, events: Events
) -> None:
    card.inject("removed_mid_read")
    card.insert()
    events.wait(SmartCardEventKind.FAILED, SmartCardEventKind.REMOVED)
    fault = events.seen[0].fault
    assert fault is not None and fault.message_key == "card.read_failed"
    assert fault.code in CARD_GONE
    assert not card.connected and reader.status.state is DeviceState.READY
    card.insert()  # a one-shot fault: put back, the card reads
    events.wait(SmartCardEventKind.FAILED, SmartCardEventKind.REMOVED, SmartCardEventKind.INSERTED)


def test_a_silent_card_ends_in_an_error_not_a_hang(
    card: VirtualCard, reader: PcscReader, events: Events
) -> None:
    card.insert()
    events.wait(SmartCardEventKind.INSERTED)
    card.inject("silence")
    started = time.monotonic()
    with pytest.raises(PcscError) as info:
        reader.transmit(SELECT_APPLET)
    assert info.value.code in CARD_GONE
    assert time.monotonic() - started < card.mute_timeout + 2
    events.wait(SmartCardEventKind.INSERTED, SmartCardEventKind.REMOVED)
    card.inject("silence", False)  # it comes back by itself
    events.wait(
        SmartCardEventKind.INSERTED, SmartCardEventKind.REMOVED, SmartCardEventKind.INSERTED
    )


@pytest.mark.parametrize("fault", ["no_card", "unplugged"])
def test_a_card_kept_out_leaves_the_reader_empty(
    card: VirtualCard, reader: PcscReader, events: Events, fault: str
) -> None:
    card.insert()
    events.wait(SmartCardEventKind.INSERTED)
    card.inject(fault)
    events.wait(SmartCardEventKind.INSERTED, SmartCardEventKind.REMOVED)
    assert not card.connected and reader.status.state is DeviceState.READY
    with pytest.raises(PcscError) as info:
        read_once("00 01", timeout=0.6)
    assert info.value.code == "no_card" and "within" in info.value.detail
    with pytest.raises(PcscError) as info:
        reader.transmit(GET_UID)
    assert info.value.code == "no_card"
    card.inject(fault, False)
    events.wait(
        SmartCardEventKind.INSERTED, SmartCardEventKind.REMOVED, SmartCardEventKind.INSERTED
    )


def test_read_once(card: VirtualCard) -> None:
    card.insert()
    found = read_once("00 01", timeout=3)
    assert (found.reader, found.atr, found.uid) == (READER, DEFAULT_ATR, UID)
    with pytest.raises(PcscError) as info:
        read_once("Acme 9000", timeout=0.3)
    assert info.value.code == "reader_missing"


def test_the_simulated_reader_is_the_driver_with_a_virtual_card(pcscd: Pcscd) -> None:
    events = Events()
    rd = SimulatedPcscReader("smart_card_reader", READER, port=PORT, uid=b"\x11\x22\x33\x44")
    rd.add_card_listener(events)
    rd.start()
    try:
        wait_for(lambda: rd.status.state is DeviceState.READY)
        rd.insert()
        events.wait(SmartCardEventKind.INSERTED)
        assert events.seen[0].card is not None and events.seen[0].card.uid == b"\x11\x22\x33\x44"
        rd.remove()
        events.wait(SmartCardEventKind.INSERTED, SmartCardEventKind.REMOVED)
    finally:
        started = time.monotonic()
        rd.stop()
        assert time.monotonic() - started < 1  # the monitor never blocks for long
    wait_for(_reader_empty, timeout=3)


def test_pcscd_restarted_is_recovered_through_a_fresh_context(
    pcscd: Pcscd, card: VirtualCard, reader: PcscReader, events: Events
) -> None:
    if not pcscd.owned:
        pytest.skip("pcscd was already running: these tests do not restart a system service")
    card.insert()
    events.wait(SmartCardEventKind.INSERTED)
    pcscd.stop()
    wait_for(lambda: reader.status.state is DeviceState.ABSENT)
    fault = reader.status.fault
    assert fault is not None and fault.code == "service_not_running"
    assert events.kinds() == [SmartCardEventKind.INSERTED, SmartCardEventKind.REMOVED]
    pcscd.start()
    wait_for(lambda: reader.status.state is DeviceState.READY, timeout=8)
    # The card plugs itself back into the new vpcd and is seen again.
    events.wait(
        SmartCardEventKind.INSERTED,
        SmartCardEventKind.REMOVED,
        SmartCardEventKind.INSERTED,
        timeout=5,
    )


def kiosk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_pcscd_not_running_is_a_state_and_a_one_line_error(tmp_path: Path) -> None:
    """Given a client pointed at a socket where no pcscd listens (pcsc-lite honours
    PCSCLITE_CSOCK_NAME), the device reports ABSENT/service_not_running, and the CLI says so."""
    nowhere = {"PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    out = kiosk("devices", "--json", "--data-dir", str(tmp_path), env=nowhere)
    assert out.returncode == 0, out.stderr
    rows = {r["kind"]: r for r in map(json.loads, out.stdout.splitlines())}
    row = rows["smart_card_reader"]
    assert (row["driver"], row["state"]) == ("sim", "absent")
    assert row["fault"]["code"] == "service_not_running"
    assert row["fault"]["message_key"] == "device.smartcard_unavailable"
    out = kiosk("diag", "read-card", "--driver", "pcsc", "--timeout", "1", env=nowhere)
    assert out.returncode == 1
    assert out.stderr.startswith("kiosk: read-card: service_not_running: ")
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_diag_read_card_from_a_virtual_card_in_another_process(pcscd: Pcscd) -> None:
    with kiosk_simulator("smartcard", "--port", str(PORT), "--uid", "0A0B0C0D") as address:
        assert address == f"127.0.0.1:{PORT}"
        out = kiosk("diag", "read-card", "--driver", "pcsc", "--reader", "00 01", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"reader": READER, "atr": "3B80800101", "uid": "0A0B0C0D"}
    wait_for(_reader_empty, timeout=3)


def test_a_social_security_card_gives_its_holder_through_pcscd(pcscd: Pcscd) -> None:
    from drivers.sim_cards import SAMPLE_CARDS
    from drivers.social_security import Holder

    resident = SAMPLE_CARDS[2]
    events = Events()
    rd = SimulatedPcscReader("smart_card_reader", READER, port=PORT,
                             holder=(resident.id_number, resident.name))  # fmt: skip
    rd.add_card_listener(events)
    rd.start()
    try:
        wait_for(lambda: rd.status.state is DeviceState.READY)
        rd.insert()
        events.wait(SmartCardEventKind.INSERTED)
        card = events.seen[0].card
        assert card is not None and card.holder == Holder(resident.id_number, resident.name)
        assert resident.name not in repr(events.seen[0])  # an event in a log says nothing
    finally:
        rd.stop()
    wait_for(_reader_empty, timeout=3)


def test_a_visit_identified_by_social_security_card(
    pcscd: Pcscd, qtbot: object, tmp_path: Path
) -> None:
    """Medical insurance by touch, identified with the social-security card through pcscd."""
    from pytestqt.qtbot import QtBot

    from drivers.sim_cards import SAMPLE_CARDS
    from kiosk.app import build, qt_app
    from kiosk.config.settings import DeviceSettings, load_settings
    from kiosk.visit.session import ChooseService, Start, State

    assert isinstance(qtbot, QtBot)
    qt_app()
    st = load_settings(data_dir=tmp_path / "data").simulated()
    devices = dict(st.devices)
    devices["smart_card_reader"] = DeviceSettings.model_validate(
        {"driver": "sim", "reader": READER, "port": PORT}
    )
    kiosk_app = build(st.model_copy(update={"devices": devices}), simulate=False)
    kiosk_app.controller.start()
    try:
        smart = kiosk_app.devices.smart_card_reader
        assert isinstance(smart, SimulatedPcscReader)
        qtbot.waitUntil(lambda: smart.status.state is DeviceState.READY, timeout=10000)
        controller = kiosk_app.controller
        controller.dispatch(Start())
        controller.dispatch(ChooseService("medical_insurance"))
        assert controller.session.state is State.IDENTIFY
        assert controller.session.view().identify_by == ("social_security_card", "id_card")
        smart.insert()
        qtbot.waitUntil(lambda: controller.session.state is State.CONFIRM, timeout=10000)
        assert controller.session.view().resident_name == SAMPLE_CARDS[1].name
        smart.remove()
    finally:
        kiosk_app.shutdown()
    wait_for(_reader_empty, timeout=3)
