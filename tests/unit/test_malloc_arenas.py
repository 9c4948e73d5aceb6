"""The terminal caps glibc's allocator arenas (runtime/memory.py): without the cap, a dozen
threads allocating at once leave a dozen arenas that never shrink (the soak's RSS creep)."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Twelve threads allocate at the same moment, then glibc's malloc_info lists its heaps (arenas).
CHILD = """
import ctypes, ctypes.util, re, sys, tempfile, threading
from runtime.memory import limit_malloc_arenas
if sys.argv[1] == "cap":
    assert limit_malloc_arenas() is True
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.fclose.argtypes = [ctypes.c_void_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
start = threading.Barrier(12)
def allocate():
    start.wait()
    for _ in range(2000):
        kept = [bytearray(1000) for _ in range(50)]
threads = [threading.Thread(target=allocate) for _ in range(12)]
for t in threads: t.start()
for t in threads: t.join()
with tempfile.NamedTemporaryFile("r") as out:
    f = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, f)
    libc.fclose(f)
    print(len(re.findall(r"<heap nr=", out.read())))
"""

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or "musl" in (ctypes.util.find_library("c") or ""),
    reason="glibc's arenas",
)


def arenas(mode: str, arena_max: str | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    env["PYTHONPATH"] = str(ROOT)
    if arena_max is not None:
        env["MALLOC_ARENA_MAX"] = arena_max
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode],
        check=False, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_the_cap_holds_the_arenas_at_two() -> None:
    assert arenas("cap") <= 2


def test_without_the_cap_threads_make_arenas_of_their_own() -> None:
    # The guard above means something: on this machine the threads do spread over arenas.
    assert arenas("none") > 2


def test_an_explicit_setting_is_left_alone() -> None:
    # A technician's MALLOC_ARENA_MAX=6 stands: the terminal does not force its two on top.
    assert 2 < arenas("cap", arena_max="6") <= 6
