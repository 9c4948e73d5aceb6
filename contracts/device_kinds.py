"""The kinds of device a terminal may have: named in the catalogue (what a service needs), in
heartbeats and in configuration, so both sides spell them the same way."""

from __future__ import annotations

import enum


class DeviceKind(enum.Enum):
    ID_CARD_READER = "id_card_reader"
    RECEIPT_PRINTER = "receipt_printer"
    CAMERA = "camera"
    SMART_CARD_READER = "smart_card_reader"
