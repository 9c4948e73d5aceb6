"""The codes residents show the camera: application receipts and appointments.

The platform issues them and checks them; the terminal's simulator holds sample ones up to its
camera, so both take the format from here.

Code formats; the digits end in a Luhn check digit, so a misread or mistyped code is caught:

- application: ``APP-`` + 10 digits: the submission date YYMMDD, a serial, the check digit.
- appointment: ``APT-YYYYMMDD-NNNC``: the appointment's date, a serial NNN, the check digit C
  over the 11 digits YYYYMMDDNNN.

Serials 001-899 are issued; 000 and 900-999 never are: they are the well-formed codes that come
back "unknown" (for tests and rigs). Codes are read case-insensitively, surrounding blanks ignored.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

ISSUED_SERIALS = range(1, 900)
_APPLICATION = re.compile(r"APP-([0-9]{6})([0-9]{3})([0-9])")
_APPOINTMENT = re.compile(r"APT-([0-9]{8})-([0-9]{3})([0-9])")


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to *digits*."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)  # the digit next to the check doubles
        total += value - 9 if value > 9 else value
    return str(-total % 10)


def application_code(submitted: date, serial: int) -> str:
    """The code of application *serial* submitted on *submitted* (issued or not: see above)."""
    if not 0 <= serial <= 999:
        raise ValueError("serial must be 0-999")
    if not 2000 <= submitted.year <= 2099:
        raise ValueError("an application code holds years 2000-2099 only")
    digits = f"{submitted:%y%m%d}{serial:03d}"
    return f"APP-{digits}{luhn_digit(digits)}"


def appointment_code(day: date, serial: int) -> str:
    if not 0 <= serial <= 999:
        raise ValueError("serial must be 0-999")
    digits = f"{day:%Y%m%d}{serial:03d}"
    return f"APT-{digits[:8]}-{digits[8:]}{luhn_digit(digits)}"


def sample_application_code(n: int, submitted: date | None = None) -> str:
    """An issued application code, serial *n* (1-899), submitted *n* days ago unless given, so a
    run of samples shows every stage from just received to completed."""
    if n not in ISSUED_SERIALS:
        raise ValueError(f"n must be {ISSUED_SERIALS.start}-{ISSUED_SERIALS.stop - 1}")
    return application_code(submitted or date.today() - timedelta(days=n), n)


def sample_appointment_code(day: date, n: int) -> str:
    """An issued appointment code for *day*, serial *n* (1-899): slot 09:00 + 30 min * (n-1)."""
    if n not in ISSUED_SERIALS:
        raise ValueError(f"n must be {ISSUED_SERIALS.start}-{ISSUED_SERIALS.stop - 1}")
    return appointment_code(day, n)


def parse_application_code(code: str) -> tuple[date, int] | None:
    """(submission date, serial) of an issued application code, None for anything else."""
    found = _APPLICATION.fullmatch(code.strip().upper())
    if found is None or luhn_digit(found[1] + found[2]) != found[3]:
        return None
    try:
        submitted = datetime.strptime("20" + found[1], "%Y%m%d").date()
    except ValueError:
        return None
    serial = int(found[2])
    return (submitted, serial) if serial in ISSUED_SERIALS else None


def parse_appointment_code(code: str) -> tuple[date, int] | None:
    """(appointment date, serial) of an issued appointment code, None for anything else."""
    found = _APPOINTMENT.fullmatch(code.strip().upper())
    if found is None or luhn_digit(found[1] + found[2]) != found[3]:
        return None
    try:
        day = datetime.strptime(found[1], "%Y%m%d").date()
    except ValueError:
        return None
    serial = int(found[2])
    return (day, serial) if serial in ISSUED_SERIALS else None
