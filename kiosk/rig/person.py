"""The semi-automatic acceptance test: the rig asks the person at the terminal to act on a real
device ("lay the test card on the reader") and waits for the terminal to show it was done, or
for Enter when the scenario gives nothing to watch, with a timeout."""

from __future__ import annotations

import select
import sys
from collections.abc import Callable
from typing import Any


def _entered(stream: Any) -> bool:
    """A line typed on *stream*, without blocking (no stream or no line: False)."""
    if stream is None:
        return False
    try:
        ready, _, _ = select.select([stream], [], [], 0)
    except (OSError, ValueError):  # not a file with a descriptor (a closed or fake stdin)
        return False
    if not ready:
        return False
    stream.readline()
    return True


def ask_person(
    prompt: str,
    until: Callable[[], bool] | None,
    timeout: float,
    pump_until: Callable[[Callable[[], bool], float], bool],
    options: Any,
) -> bool:
    stream = options.ask_input if options.ask_input is not None else sys.stdin
    hint = "" if until is not None else " (press Enter when done)"
    print(f"\a>>> {prompt}{hint} [{timeout:g} s]", file=sys.stderr, flush=True)
    if until is not None:
        done = pump_until(until, timeout)
    else:
        done = pump_until(lambda: _entered(stream), timeout)
    print(">>> thank you" if done else ">>> no answer: the step fails", file=sys.stderr, flush=True)
    return done
