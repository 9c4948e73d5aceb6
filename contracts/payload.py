"""What a configuration bundle may carry: the parts of a terminal's configuration an operator
changes for a fleet (catalogue, timeouts, centre names, language, receipt QR), versioned.

``schema_version`` names the payload's layout. A terminal understands its own version and
migrates older ones forward through MIGRATIONS, one step at a time, so an operator's tooling and
the fleet can move at different speeds; a newer version than the terminal knows is refused.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contracts.catalogue import Catalogue, parse_catalogue
from contracts.centre import DEFAULT_CENTRE_EN, DEFAULT_CENTRE_ZH
from contracts.personal import PersonalKey

SCHEMA_VERSION = 2

# The payload's format strings and the names each is filled with (str.format). The catalogue's
# texts are not among them: they are shown as they are written, braces and all. A name the
# terminal does not fill raises KeyError on every receipt of every terminal that takes the
# bundle, so each placeholder is checked here, before signing and before take-up.
RECEIPT_QR_FIELDS = {"uuid": "01a207c3-1817-75d0-b1a0-6873d6daeb06", "ticket": "A001"}
FORMAT_STRINGS: dict[str, Mapping[str, str]] = {"receipt_qr": RECEIPT_QR_FIELDS}


def check_format(template: str, fields: Mapping[str, str]) -> str:
    """*template* unchanged if ``template.format(**fields)`` can only succeed; ValueError naming
    the bad placeholder otherwise. Only plain names are allowed: an attribute or an index
    (``{uuid.__class__}``) would reach into the terminal's objects, a bare ``{}`` or ``{0}`` has
    nothing to fill it."""
    allowed = ", ".join(f"{{{name}}}" for name in fields)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:  # a lone { or }
        raise ValueError(
            f"{exc} (write {{{{ or }}}} for a brace; placeholders: {allowed})"
        ) from None
    for _, name, spec, _ in parts:
        if name is None:
            continue
        if name not in fields:
            raise ValueError(f"unknown placeholder {{{name}}}; allowed: {allowed}")
        if spec and "{" in spec:
            raise ValueError(f"placeholder {{{name}:{spec}}} nests another placeholder")
    try:
        template.format(**fields)
    except (ValueError, KeyError, IndexError) as exc:  # a format spec or conversion that fails
        raise ValueError(f"cannot be filled in: {exc}") from None
    return template


def _v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    # Version 1 named the attract screen's language "default_language".
    out = dict(payload)
    if "default_language" in out:
        out["language"] = out.pop("default_language")
    out["schema_version"] = 2
    return out


# from-version -> the step to the next version
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


class Timeouts(BaseModel):
    """Seconds each step of a visit may sit untouched before the visit ends."""

    model_config = ConfigDict(extra="forbid")
    identify: float = Field(90, ge=30)
    catalogue: float = Field(120, ge=30)
    scan: float = Field(90, ge=30)
    choose: float = Field(120, ge=30)
    keypad: float = Field(120, ge=30)
    feedback: float = Field(240, ge=30)
    confirm: float = Field(120, ge=30)
    processing: float = Field(30, ge=5)
    result: float = Field(90, ge=30)
    rating: float = Field(60, ge=30)
    problem: float = Field(60, ge=10)
    goodbye: float = Field(8, ge=2)
    # WCAG 2.2.1: warn, and give at least 20 s to ask for more time with one action.
    warning: float = Field(20, ge=20)

    @model_validator(mode="after")
    def _warning_fits(self) -> Timeouts:
        for name in ("identify", "catalogue", "scan", "choose", "keypad", "feedback", "confirm",
                     "result", "rating"):  # fmt: skip
            if getattr(self, name) <= self.warning:
                raise ValueError(f"{name} ({getattr(self, name)} s) must exceed warning")
        return self


class CentreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str = DEFAULT_CENTRE_ZH
    name_en: str = DEFAULT_CENTRE_EN


class SchemaError(ValueError):
    """The payload does not fit the schema; ``path`` names the field (payload.timeouts.identify)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class ConfigPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[2]
    language: Literal["zh_CN", "en"] | None = None
    centre: CentreSettings | None = None
    timeouts: Timeouts | None = None
    receipt_qr: str | None = Field(None, max_length=200)
    catalogue: dict[str, Any] | None = None
    # The platform's personal-data public key (kiosk-central personal keygen prints it): what
    # terminals seal residents' personal fields to. Here, signed by a threshold of operators,
    # rather than anywhere the API server could change it. Without it, personal fields wait.
    personal_key: PersonalKey | None = None

    @field_validator(*FORMAT_STRINGS)
    @classmethod
    def _placeholders_known(cls, value: str | None, info: ValidationInfo) -> str | None:
        assert info.field_name is not None
        return value if value is None else check_format(value, FORMAT_STRINGS[info.field_name])

    @field_validator("catalogue")
    @classmethod
    def _catalogue_parses(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            parse_catalogue(value)  # ValueError names the service and field
        return value

    def parsed_catalogue(self) -> Catalogue | None:
        return parse_catalogue(self.catalogue) if self.catalogue is not None else None


def migrate(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise SchemaError("payload", "must be an object")
    version = payload.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SchemaError("payload.schema_version", "must be a whole number")
    if version > SCHEMA_VERSION:
        raise SchemaError(
            "payload.schema_version",
            f"{version} is newer than this terminal knows ({SCHEMA_VERSION})",
        )
    current: dict[str, Any] = dict(payload)
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise SchemaError("payload.schema_version", f"no migration from version {version}")
        current = step(current)
        version = current["schema_version"]
    return current


def validate_payload(payload: Any) -> ConfigPayload:
    """Migrate to the current schema and validate; SchemaError names the first bad field."""
    current = migrate(payload)
    try:
        return ConfigPayload.model_validate(current)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("payload", *first["loc"]))
        message = first["msg"].removeprefix("Value error, ")  # our own words, as they are
        raise SchemaError(where, message) from None
