"""The exceptions a serial line can raise when its device vanishes, in one place.

pyserial raises SerialException or OSError, but a pty or USB adapter that disappears can also
surface as termios.error from a flush or an attribute change, which is neither.
"""

from __future__ import annotations


def serial_errors() -> tuple[type[BaseException], ...]:
    import serial  # imported late: only terminals with a serial device configured need it

    try:
        import termios
    except ImportError:  # not a POSIX system
        return (serial.SerialException, OSError)
    return (serial.SerialException, OSError, termios.error)
