"""Rig benchmark (issue 17): the wall time of the whole shipped scenario suite through the rig, and
the rig's own overhead per step, the time a step takes beyond the application's work (the event
loop it pumps, the touches it delivers) and beyond waiting for the terminal. Goal: <= 20 ms
median.

The suite runs in this process as ``kiosk rig run`` runs it (kiosk.rig.runner.Rig, offscreen, a
fresh terminal per scenario); per step the runner times the step and the application's share.

    .venv/bin/python tests/benches/bench_rig.py [SCENARIO ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={ROOT / 'kiosk' / 'rig' / 'screen.json'}"
os.environ.setdefault("KIOSK_VOICE_ENGINE", "mock")
sys.path.insert(0, str(ROOT))

from kiosk.rig.controls import control_check  # noqa: E402
from kiosk.rig.loader import load  # noqa: E402
from kiosk.rig.runner import Rig, RigOptions  # noqa: E402

GOAL_MS = 20.0
SHIPPED = sorted((ROOT / "kiosk" / "rig" / "scenarios").glob("*.yaml"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenarios", nargs="*", type=Path, default=SHIPPED)
    args = parser.parse_args()
    load_avg = os.getloadavg()
    print(
        f"load average {load_avg[0]:.2f} on {os.cpu_count()} CPUs; {len(args.scenarios)} scenarios"
    )
    check = control_check()
    loaded = [load(p, control_check=check) for p in args.scenarios]
    own: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    setups: list[float] = []
    failed = []
    with tempfile.TemporaryDirectory(prefix="bench-rig-") as tmp:
        began = time.perf_counter()
        rig = Rig(RigOptions(artifacts=Path(tmp) / "a", work=Path(tmp) / "w"))
        for scenario in loaded:
            result = rig.run(scenario)
            setups.append(result.setup_seconds)
            if not result.passed:
                failed.append(f"{scenario.path.name}: {result.failure}")
            for step in result.steps:
                own.append(step.own_seconds * 1000)
                by_kind[step.step.kind].append(step.own_seconds * 1000)
        wall = time.perf_counter() - began
    median = statistics.median(own)
    p95 = sorted(own)[int(len(own) * 0.95)]
    print(f"suite: {len(loaded)} scenarios, {len(own)} steps in {wall:.1f} s wall "
          f"({len(failed)} failed); setup per scenario median {statistics.median(setups):.1f} s, "
          f"first {setups[0]:.1f} s (the platform's template)")  # fmt: skip
    print(f"rig's own time per step: median {median:.2f} ms, p95 {p95:.2f} ms, "
          f"max {max(own):.1f} ms (goal <= {GOAL_MS:.0f} ms median): "
          f"{'met' if median <= GOAL_MS else 'MISSED'}")  # fmt: skip
    for kind, values in sorted(by_kind.items()):
        print(f"  {kind:18} {len(values):4d} steps  median {statistics.median(values):7.2f} ms  "
              f"max {max(values):7.1f} ms")  # fmt: skip
    for line in failed:
        print(f"  FAILED {line}")
    return 0 if median <= GOAL_MS and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
