"""Keeping a terminal that runs for months from growing: glibc's allocator arenas.

glibc gives each thread that allocates while another holds the main arena an arena of its own,
up to eight per core, and memory freed into an arena stays mapped there. The terminal's device,
camera, sync and HTTP threads come and go all day, so the resident set crept up by about 0.1 MB
per visit in the soak (tests/benches/soak.py: +29 MB over 300 visits with 16 arenas possible on
2 cores, +1.6 MB with two) while Python's own objects stayed flat. Two arenas are plenty for a
terminal that serves one resident at a time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's <malloc.h>
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's arenas at *arenas*, unless MALLOC_ARENA_MAX already says otherwise (a
    technician's or a unit's choice wins). Call it early, before the worker threads start:
    arenas made before stay. True when the cap is in force; False off glibc (musl, macOS)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return True  # glibc read it at start-up
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
