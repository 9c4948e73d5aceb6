"""SAM read benchmark: find -> select -> read (1295-byte answer) from the simulator on a pty,
paced at 115200 baud. Prints the median time of 20 reads, the wire time of every byte exchanged,
and the driver's overhead over it (goal: <= 25 ms).

    .venv/bin/python tests/benches/bench_sam_read.py [--reads 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from drivers.sam_protocol import Command, encode_command, encode_response
from drivers.sam_reader import SamLink
from drivers.sam_record import encode_read_answer, encode_text
from drivers.sim_cards import SAMPLE_CARDS, sample_photo
from drivers.sim_sam import SamSimulator

BAUD = 115200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=20)
    args = parser.parse_args()
    card = SAMPLE_CARDS[0]
    answer = encode_response(
        0x90, encode_read_answer(encode_text(card), sample_photo(card.id_number))
    )
    exchanged = (
        3 * len(encode_command(Command.FIND_CARD))
        + len(encode_response(0x9F, b"\0" * 4))
        + len(encode_response(0x90, b"\0" * 8))
        + len(answer)
    )
    wire_ms = exchanged * 10 / BAUD * 1000
    with tempfile.TemporaryDirectory() as tmp:
        sim = SamSimulator(Path(tmp) / "sam", baud=BAUD)
        sim.start()
        sim.present(card)
        link = SamLink(sim.port, BAUD)
        times = []
        for _ in range(args.reads):
            started = time.perf_counter()
            assert link.card_present()
            assert link.read_card() == card
            times.append((time.perf_counter() - started) * 1000)
        link.close()
        sim.stop()
    median = statistics.median(times)
    print(f"full read (find, select, read), median of {args.reads}: {median:.1f} ms")
    print(f"wire time at {BAUD} baud: read answer alone {len(answer) * 10 / BAUD * 1000:.1f} ms, "
          f"all {exchanged} bytes {wire_ms:.1f} ms")  # fmt: skip
    print(
        f"driver overhead over the wire time of all bytes: {median - wire_ms:.1f} ms (goal <= 25)"
    )


if __name__ == "__main__":
    main()
