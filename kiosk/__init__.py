"""The kiosk terminal's application core: CLI, settings, the visit state machine, the catalogue."""

__version__ = "0.1.0"
