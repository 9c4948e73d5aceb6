"""Receipt layout benchmark: the queue-ticket receipt document to ESC/POS bytes (goal <= 20 ms).

.venv/bin/python tests/benches/bench_receipt_layout.py [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime

from drivers.escpos_layout import PrinterProfile, render
from kiosk.config.settings import Settings
from kiosk.visit.receipts import queue_ticket_receipt
from kiosk.visit.session import PrintReceipt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    uuid = "01a207c3-1817-75d0-b1a0-6873d6daeb06"
    now = datetime.now().astimezone()
    job = PrintReceipt(1, "queue_ticket", "social_security", "A007", uuid, now, "zh_CN")
    settings = Settings()
    for native in (True, False):
        profile = PrinterProfile(native_qr=native)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            data = render(queue_ticket_receipt(job, settings), profile)
            times.append((time.perf_counter() - started) * 1000)
        label = "native QR" if native else "raster QR fallback"
        print(f"receipt to ESC/POS ({label}, {len(data)} bytes), median of {args.runs}: "
              f"{statistics.median(times):.2f} ms (goal <= 20)")  # fmt: skip


if __name__ == "__main__":
    main()
