"""The error the CLI reports as one line with exit code 1 (a light module: no heavy imports)."""


class KioskError(Exception):
    """A failure a technician can act on; its message is the whole story, in one line."""
