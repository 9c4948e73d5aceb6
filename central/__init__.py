"""kiosk-central: the reference central platform that terminals deliver transactions to."""

__version__ = "0.1.0"
