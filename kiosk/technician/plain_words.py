"""Plain words for technicians: "printer: paper out" rather than ``receipt_printer/paper_out``.

These are the technician's words (English, short), not a resident's: resident messages are
translation keys. The stable code always travels beside the words, for the mode to translate.
"""

from __future__ import annotations

DEVICE_NOUNS = {
    "id_card_reader": "card reader",
    "receipt_printer": "printer",
    "camera": "camera",
    "smart_card_reader": "smart card reader",
    "speech": "voice",  # the speech engine: not a device, but listed with them
}

FAULT_WORDS = {
    # states without a fault
    "absent": "not connected",
    "connecting": "still connecting",
    # printers
    "paper_out": "paper out",
    "cover_open": "cover open",
    "unreachable": "not reachable",
    "no_transport": "no transport configured",
    # serial ports and readers
    "open_failed": "cannot open its port (unplugged?)",
    "io_error": "connection lost",
    "timeout": "not answering",
    "bad_frame": "garbled answers",
    "incomplete": "answer cut off",
    "sam_self_test_failed": "SAM module failed its self-test",
    "sam_not_authorised": "SAM module not authorised",
    # PC/SC
    "service_not_running": "PC/SC service (pcscd) not running",
    "reader_missing": "no reader connected",
    "pyscard_missing": "pyscard not installed",
    # cameras
    "no_frames": "no picture",
    "read_failed": "read failed",
    "stalled": "picture frozen",
    "dark": "picture black (lens covered?)",
    "ended": "video file ended",
    "no_source": "no such video source",
    "no_cascade": "face detector files missing",
}


# Where the same code reads differently for one kind of device.
KIND_FAULT_WORDS = {
    ("camera", "open_failed"): "cannot open the camera (unplugged?)",
    ("camera", "read_failed"): "stopped delivering pictures",
}


def device_noun(kind: str) -> str:
    return DEVICE_NOUNS.get(kind, kind.replace("_", " "))


def fault_words(code: str, kind: str | None = None) -> str:
    words = KIND_FAULT_WORDS.get((kind, code)) if kind else None
    return words or FAULT_WORDS.get(code, code.replace("_", " "))


def problem(kind: str, code: str) -> str:
    """``problem("receipt_printer", "paper_out")`` -> ``"printer: paper out"``."""
    return f"{device_noun(kind)}: {fault_words(code, kind)}"
