"""Panels smaller than the design's 1920x1080 (1366x768, 1280x800 and 1280x1024 are common in
kiosks): every screen is laid out for 1920x1080 logical pixels, so on a smaller X screen the
whole interface is scaled down evenly (Qt's QT_SCALE_FACTOR) instead of squeezing fixed-size
controls onto each other. Text gets smaller with it (at 1280x800 body text is some 21 pixels),
which a terminal with a small panel trades for nothing clipped or overlapping.

The X screen's size is read before Qt starts (the factor is read when the application is
made), through libX11, which Qt's xcb platform loads anyway. QT_SCALE_FACTOR set by hand wins;
so does it on a terminal with a second monitor beside the touch panel (the X screen spans both).
"""

from __future__ import annotations

import ctypes
import math
import os

DESIGN = (1920, 1080)


def scale_for(width: int, height: int) -> float | None:
    """The factor that fits the design on a *width* x *height* screen, or None when it fits
    as it is. Rounded down, so the layout never ends a pixel short."""
    factor = min(width / DESIGN[0], height / DESIGN[1])
    if factor >= 1:
        return None
    return math.floor(factor * 1000) / 1000


def x_screen_size(display: str | None = None) -> tuple[int, int] | None:
    """The default X screen's size in pixels, or None without an X server to ask."""
    try:
        xlib = ctypes.CDLL("libX11.so.6")
    except OSError:
        return None
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for function in (xlib.XDefaultScreen, xlib.XCloseDisplay):
        function.argtypes = [ctypes.c_void_p]
    for function in (xlib.XDisplayWidth, xlib.XDisplayHeight):
        function.argtypes = [ctypes.c_void_p, ctypes.c_int]
    handle = xlib.XOpenDisplay(display.encode() if display else None)
    if not handle:
        return None
    try:
        screen = xlib.XDefaultScreen(handle)
        return int(xlib.XDisplayWidth(handle, screen)), int(xlib.XDisplayHeight(handle, screen))
    finally:
        xlib.XCloseDisplay(handle)


def fit_to_screen() -> float | None:
    """Before the QApplication is made: on an X screen smaller than the design, set
    QT_SCALE_FACTOR so the design fits. Returns the factor set, if any."""
    if "QT_SCALE_FACTOR" in os.environ:
        return None  # the technician's choice
    platform = os.environ.get("QT_QPA_PLATFORM")
    if platform is None and os.environ.get("WAYLAND_DISPLAY"):
        return None  # Qt picks Wayland there: Xwayland's screen is not the one shown
    if (platform or "xcb") != "xcb" or not os.environ.get("DISPLAY"):
        return None  # offscreen (tests) or not X: nothing to measure
    size = x_screen_size()
    if size is None:
        return None
    factor = scale_for(*size)
    if factor is not None:
        os.environ["QT_SCALE_FACTOR"] = f"{factor:g}"
        _fitted.append(
            f"screen {size[0]}x{size[1]} is smaller than the {DESIGN[0]}x{DESIGN[1]} layout: "
            f"the interface is scaled by {factor:g}"
        )
    return factor


_fitted: list[str] = []


def fitted() -> str | None:
    """What fit_to_screen did, for the log once it is set up (Qt starts before it)."""
    return _fitted[-1] if _fitted else None
