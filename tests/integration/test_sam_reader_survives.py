"""The SAM reader's loop survives any answer a reader can send: every payload length around the
minimum and fuzzed bytes, over a real pty, with the real reader thread. Afterwards the reader
still reads: it comes back READY when the peer answers well again, and its supervisor never had
to restart it (nothing escaped the loop)."""

from __future__ import annotations

import os
import queue
import threading
import time
import tty
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.base import DeviceState
from drivers.sam_protocol import Command, FrameDecoder, _frame, encode_response
from drivers.sam_reader import SamSerialReader

Answer = Callable[[tuple[int, int]], bytes]


def healthy(command: tuple[int, int]) -> bytes:
    """A reader with no card: status fine, no card found."""
    if command == Command.FIND_CARD.value:
        return encode_response(0x80)
    return encode_response(0x90)


class Peer:
    """The reader's end of a pty: answers each command with whatever the test decides."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self.answer: Answer = healthy
        self.scripted: queue.Queue[bytes] = queue.Queue()  # answered first, one per command
        self.commands = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        decoder = FrameDecoder()
        while not self._stop.is_set():
            try:
                chunk = os.read(self.master, 256)
            except OSError:
                return
            for item in decoder.feed(chunk):
                if not hasattr(item, "command"):
                    continue
                self.commands += 1
                try:
                    reply = self.scripted.get_nowait()
                except queue.Empty:
                    reply = self.answer(item.command)  # type: ignore[union-attr]
                os.write(self.master, reply)

    def close(self) -> None:
        self._stop.set()
        os.close(self._slave)
        os.close(self.master)


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.close()


@pytest.fixture
def reader(peer: Peer) -> Iterator[SamSerialReader]:
    r = SamSerialReader("idcard-under-test", peer.port, poll_seconds=0.02)
    r.start()
    yield r
    r.stop()


def ready_again(peer: Peer, reader: SamSerialReader, timeout: float = 15.0) -> None:
    peer.answer = healthy
    deadline = time.monotonic() + timeout
    while reader.status.state is not DeviceState.READY:
        assert time.monotonic() < deadline, f"reader stuck in {reader.status.state}"
        time.sleep(0.02)
    health = reader._worker.health
    assert health.restarts == 0, f"the loop crashed: {health.fault}"


def payload_of(length: int) -> bytes:
    """A response payload of *length* bytes whose SW3 (if it has one) says "fine"."""
    return bytes([0x00, 0x00, 0x90, 0x01, 0x02][:length]) + bytes(max(0, length - 5))


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 5])
def test_every_payload_length_around_the_minimum(
    peer: Peer, reader: SamSerialReader, length: int
) -> None:
    """Given the reader answering every command with a well-checksummed frame of *length*
    payload bytes, the reader loop lives on; once the answers are right it is READY."""
    ready_again(peer, reader)
    frame = _frame(payload_of(length)) if length else b"\xaa\xaa\xaa\x96\x69\x00\x01\x01"
    peer.answer = lambda command: frame
    time.sleep(1.5)  # several polls, each meeting the frame
    ready_again(peer, reader)


# Each garbage answer costs the reader its 1 s answer timeout: a few examples in every run,
# KIOSK_FUZZ_EXAMPLES=40 for a soak (about 8 minutes).
@settings(max_examples=int(os.environ.get("KIOSK_FUZZ_EXAMPLES", "5")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(answers=st.lists(st.binary(min_size=0, max_size=48), min_size=1, max_size=6))
def test_fuzzed_answers_never_kill_the_loop(
    peer: Peer, reader: SamSerialReader, answers: list[bytes]
) -> None:
    """Any bytes as the answer to the next commands: the reader may say it is unavailable, never
    die; then it reads on."""
    for answer in answers:
        peer.scripted.put(answer)
    deadline = time.monotonic() + 20
    while not peer.scripted.empty():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    ready_again(peer, reader)
