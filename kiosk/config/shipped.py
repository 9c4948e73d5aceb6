"""The catalogue a terminal ships with, used until a signed bundle replaces it."""

from __future__ import annotations

import json
from importlib import resources

from contracts.catalogue import Catalogue, parse_catalogue


def default_catalogue() -> Catalogue:
    text = resources.files("kiosk.config").joinpath("catalogue.json").read_text("utf-8")
    return parse_catalogue(json.loads(text))
