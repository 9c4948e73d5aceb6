"""The SAM driver against the SAM simulator over a real pty and over TCP (``socket://``), faults
included."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.base import DeviceState
from drivers.idcard_reader import CardEvent, CardEventKind
from drivers.sam_protocol import Command
from drivers.sam_reader import SamError, SamLink, SamSerialReader, read_once
from drivers.sim_cards import SAMPLE_CARDS
from drivers.sim_sam import SamSimulator
from tests.processes import kiosk_simulator
from tests.waiting import wait_for


@pytest.fixture(params=["pty", "socket"])
def simulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SamSimulator]:
    if request.param == "pty":
        sim = SamSimulator(tmp_path / "sam")
    else:
        sim = SamSimulator(tcp=("127.0.0.1", 0))
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def link(simulator: SamSimulator) -> Iterator[SamLink]:
    lnk = SamLink(simulator.port, 115200)
    yield lnk
    lnk.close()


def test_find_select_read(simulator: SamSimulator, link: SamLink) -> None:
    assert link.card_present() is False
    simulator.present(SAMPLE_CARDS[2])
    assert link.card_present() is True
    assert link.read_card() == SAMPLE_CARDS[2]


@pytest.mark.parametrize(
    ("fault", "code", "message_key"),
    [
        ("read_failed", "read_failed", "card.read_failed"),
        ("bad_checksum", "bad_frame", "card.read_failed"),
        ("silence", "timeout", "device.reader_unavailable"),
        ("removed_mid_read", "incomplete", "card.read_failed"),
    ],
)
def test_faults_end_in_a_clear_error(
    simulator: SamSimulator, link: SamLink, fault: str, code: str, message_key: str
) -> None:
    simulator.present()
    simulator.inject(fault)
    with pytest.raises(SamError) as info:
        if fault in ("bad_checksum", "silence"):
            link.card_present()
        else:
            link.read_card(read_timeout=0.6)
    assert (info.value.code, info.value.message_key) == (code, message_key)
    assert not info.value.transport
    simulator.inject(fault, False)
    simulator.present()
    assert link.card_present() and link.read_card() == SAMPLE_CARDS[1]  # and it recovers


def test_garbage_before_answers_is_skipped(simulator: SamSimulator, link: SamLink) -> None:
    simulator.inject("garbage")
    simulator.present(SAMPLE_CARDS[0])
    assert link.card_present()
    assert link.read_card() == SAMPLE_CARDS[0]


def test_no_card_fault(simulator: SamSimulator, link: SamLink) -> None:
    simulator.present()
    simulator.inject("no_card")
    assert link.card_present() is False
    with pytest.raises(SamError) as info:
        link.read_card()
    assert info.value.code == "select_failed"


def test_baud_rate_change(simulator: SamSimulator, link: SamLink) -> None:
    link.set_baud(57600)
    wait_for(lambda: simulator.baud == 57600, timeout=1)  # it switches once its answer is out
    simulator.present(SAMPLE_CARDS[0])
    started = time.monotonic()
    assert link.card_present() and link.read_card() == SAMPLE_CARDS[0]
    assert time.monotonic() - started >= 1295 * 10 / 57600  # paced at the new speed
    with pytest.raises(ValueError):
        link.set_baud(12345)


def test_garbage_commands_get_a_status_not_silence(link: SamLink) -> None:
    frame = link.transact((0x77, 0x01))
    assert frame.sw3 == 0x24
    assert link.check(Command.SAM_STATUS).sw3 == 0x90


def test_reader_reports_insert_remove_unplug_and_recovers(simulator: SamSimulator) -> None:
    events: list[CardEvent] = []
    changed = threading.Event()

    def on_event(event: CardEvent) -> None:
        events.append(event)
        changed.set()

    reader = SamSerialReader("reader", simulator.port, poll_seconds=0.05)
    reader.add_card_listener(on_event)
    reader.start()
    try:
        wait_for(lambda: reader.status.state is DeviceState.READY)
        simulator.present(SAMPLE_CARDS[0])
        wait_for(lambda: any(e.kind is CardEventKind.READ for e in events))
        simulator.remove()
        wait_for(lambda: events[-1].kind is CardEventKind.REMOVED)
        assert [e.kind for e in events] == [
            CardEventKind.READING, CardEventKind.READ, CardEventKind.REMOVED,
        ]  # fmt: skip
        assert events[1].card == SAMPLE_CARDS[0]

        simulator.inject("unplugged")
        wait_for(lambda: reader.status.state in (DeviceState.ABSENT, DeviceState.FAULT))
        assert reader.status.fault is not None
        simulator.inject("unplugged", False)
        wait_for(lambda: reader.status.state is DeviceState.READY, timeout=10)
        simulator.inject("read_failed")
        simulator.present(SAMPLE_CARDS[1])
        wait_for(lambda: any(e.kind is CardEventKind.FAILED for e in events))
        wait_for(lambda: events[-1].kind is CardEventKind.READ, timeout=5)  # retried by itself
        assert events[-1].card == SAMPLE_CARDS[1]
    finally:
        reader.stop()


def test_open_failure_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SamError) as info:
        read_once(str(tmp_path / "no-such-port"), timeout=0.5)
    assert info.value.code == "open_failed" and info.value.transport


def test_diag_read_card_from_a_simulator_in_another_process(tmp_path: Path) -> None:
    link = tmp_path / "sam-link"
    with kiosk_simulator("sam-reader", "--link", str(link), "--card", "1") as port:
        assert port == str(link)
        out = subprocess.run(
            [sys.executable, "-m", "kiosk", "diag", "read-card", "--driver", "sam-serial",
             "--port", port, "--timeout", "5", "--json"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert out.returncode == 0, out.stderr
    fields = json.loads(out.stdout)
    assert fields == SAMPLE_CARDS[0].as_json()
    assert fields["name"] == "张秀英" and fields["valid_to"] == "长期"
    assert not link.exists()  # the simulator cleans up after itself


def test_diag_read_card_over_tcp_from_another_process() -> None:
    with kiosk_simulator("sam-reader", "--tcp", "127.0.0.1:0", "--card", "2") as port:
        assert port.startswith("socket://127.0.0.1:")
        out = subprocess.run(
            [sys.executable, "-m", "kiosk", "diag", "read-card", "--driver", "sam-serial",
             "--port", port, "--timeout", "5", "--json"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == SAMPLE_CARDS[1].as_json()


def test_sim_sam_reader_needs_one_place_to_serve() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "sim", "sam-reader"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 2 and "--link PATH or --tcp HOST:PORT" in out.stderr


def test_diag_read_card_without_a_card_is_one_line(tmp_path: Path) -> None:
    sim = SamSimulator(tmp_path / "sam")
    sim.start()
    try:
        out = subprocess.run(
            [sys.executable, "-m", "kiosk", "diag", "read-card", "--driver", "sam-serial",
             "--port", sim.port, "--timeout", "0.5"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        sim.stop()
    assert out.returncode == 1
    assert out.stderr.startswith("kiosk: read-card: no_card") and out.stderr.count("\n") == 1
