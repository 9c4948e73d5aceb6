"""The terminal's settings: defaults that run on simulated devices, a TOML file, the environment."""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from contracts.device_kinds import DeviceKind
from contracts.payload import RECEIPT_QR_FIELDS, CentreSettings, Timeouts, check_format
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from offline.outbox import OutboxStore


class SettingsError(KioskError):
    """The configuration cannot be used; the message names the file and the field."""


class DeviceSettings(BaseModel):
    """One device: the driver's name plus whatever options that driver takes."""

    model_config = ConfigDict(extra="allow")
    driver: str = "sim"

    def options(self) -> dict[str, Any]:
        return self.model_dump()


class CentralSettings(BaseModel):
    """Where the platform is. Without a url the terminal works offline on its outbox, unless it
    is asked to start the embedded platform on loopback (``embedded``, or ``--simulate``)."""

    model_config = ConfigDict(extra="forbid")
    url: str | None = None
    kiosk_id: str = Field("kiosk-dev-001", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    token: str | None = None
    batch_size: int = Field(500, ge=1, le=1000)
    timeout: float = Field(10, gt=0, le=120)
    backoff_base: float = Field(1, gt=0, le=60)
    backoff_cap: float = Field(300, gt=0, le=3600)
    # Without a url, start the reference platform on loopback and sync to it. Off by default: a
    # production terminal whose url was forgotten must not deliver to itself and purge its
    # sealed copies; it waits on its outbox and says so. On under --simulate unless set.
    embedded: bool = False
    groups: list[str] = Field(default_factory=list)  # fleet groups configuration bundles target
    # Seconds between asks for new configuration; conditional requests, so cheap, but a fleet
    # asking every second is a storm.
    config_interval: float = Field(300, ge=1, le=86400)
    # The operators' public keys and threshold for signed configuration. Not in the data
    # directory: whatever runs as the kiosk user can write there, and could add its own key.
    # None: SYSTEM_TRUST (root's), or the data directory's keys/config-trust under --simulate.
    config_trust: Path | None = None
    # Seconds a bundle's issued_at may lie ahead of this clock, and the longest validity taken:
    # contracts.verify's MAX_CLOCK_SKEW and MAX_VALIDITY (not imported: that would bring the
    # cryptography library into every settings load; a test keeps them equal).
    config_clock_skew: float = Field(600, ge=0, le=86400)
    config_max_days: float = Field(90, gt=0, le=3650)
    # The CA (PEM) the platform's certificate must chain to; None: the system's trust store.
    # When set it is the only one trusted for the platform, so a fleet's own CA pins it.
    ca_file: Path | None = None
    # Plain http to a platform off loopback carries the token, ID numbers and feedback readable
    # by anyone on the path: refused unless this says so (a lab, a TLS-terminating tunnel).
    allow_insecure: bool = False

    @field_validator("ca_file")
    @classmethod
    def _readable_ca(cls, path: Path | None) -> Path | None:
        # Checked when settings load: `kiosk run` and `kiosk queue sync` say it first, in one
        # line, rather than the sync worker retrying a file that will never read.
        from pydantic_core import PydanticCustomError

        from offline.http import PlatformTrustError, load_ca

        if path is not None:
            try:
                load_ca(path)
            except PlatformTrustError as exc:
                raise PydanticCustomError("ca_file", "{reason}", {"reason": str(exc)}) from None
        return path

    @model_validator(mode="after")
    def _secure_url(self) -> CentralSettings:
        from pydantic_core import PydanticCustomError

        from offline.http import PlatformTrustError, check_platform_url

        if self.url:
            try:
                check_platform_url(self.url, allow_insecure=self.allow_insecure)
            except PlatformTrustError as exc:
                raise PydanticCustomError(
                    "insecure_url", "{reason}", {"reason": str(exc)}
                ) from None
        return self


class OutboxSettings(BaseModel):
    """How long settled personal data is kept, and how large the outbox may grow."""

    model_config = ConfigDict(extra="forbid")
    retention_days: float = Field(7, ge=0, le=3650)
    max_mb: int = Field(2048, ge=16)


class DiagnosticsSettings(BaseModel):
    """The technician's diagnostics mode: who may enter (PIN hashes from ``kiosk diag hash-pin``)
    and the hidden gesture that opens its PIN pad. Without a PIN hash the entry stays closed
    (``kiosk run --simulate`` alone allows a documented test PIN)."""

    model_config = ConfigDict(extra="forbid")
    technician_pin_hashes: list[str] = Field(default_factory=list)
    entry_taps: int = Field(5, ge=3, le=10)
    entry_window_seconds: float = Field(3, gt=0, le=10)

    @field_validator("technician_pin_hashes")
    @classmethod
    def _usable_hashes(cls, hashes: list[str]) -> list[str]:
        from kiosk.technician.access import PinHash

        for i, encoded in enumerate(hashes):
            try:
                PinHash.parse(encoded)
            except ValueError as exc:  # the line itself is a secret: name it by position only
                raise ValueError(
                    f"entry {i + 1}: {exc} (make one with kiosk diag hash-pin)"
                ) from None
        return hashes


def _default_devices() -> dict[str, DeviceSettings]:
    return {kind.value: DeviceSettings() for kind in DeviceKind}


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Literal["zh_CN", "en"] = "zh_CN"
    data_dir: Path | None = None
    centre: CentreSettings = CentreSettings()
    central: CentralSettings = CentralSettings()
    outbox: OutboxSettings = OutboxSettings()
    timeouts: Timeouts = Timeouts()
    diagnostics: DiagnosticsSettings = DiagnosticsSettings()
    devices: dict[str, DeviceSettings] = Field(default_factory=_default_devices)
    receipt_qr: str = "KIOSK-TICKET:{uuid}"  # what the receipt's QR code carries
    # Where a certificate's QR code sends a resident's phone: the platform's public verification
    # page, <verify_url>/v/<reference>. None: the platform's own url ([central] url), which is
    # right when residents' phones can reach it; a department publishing the page elsewhere
    # (a public name in front of the platform) sets it.
    verify_url: str | None = Field(None, max_length=200)

    @field_validator("verify_url")
    @classmethod
    def _verify_url_public(cls, url: str | None) -> str | None:
        from urllib.parse import urlsplit

        from offline.http import is_loopback

        if url is None:
            return None
        try:
            parts = urlsplit(url)
            _ = parts.port
        except ValueError as exc:
            raise ValueError(f"{url!r} is not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError(f"{url!r} has a query or fragment: give the base, /v/<ref> follows")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ValueError(
                f"{url!r} is plain http off loopback: anyone on a resident's network could "
                "answer 'valid' for a forged certificate; use https"
            )
        return url

    @field_validator("receipt_qr")
    @classmethod
    def _receipt_qr_fills(cls, template: str) -> str:
        return check_format(template, RECEIPT_QR_FIELDS)  # as a bundle's is: not at every print

    @model_validator(mode="after")
    def _known_devices(self) -> Settings:
        known = {kind.value for kind in DeviceKind}
        unknown = set(self.devices) - known
        if unknown:
            raise ValueError(f"unknown device section(s) {sorted(unknown)}; known: {sorted(known)}")
        for kind in known:
            self.devices.setdefault(kind, DeviceSettings())
        return self

    def verify_base(self) -> str:
        """The base of certificates' verification links ("" when no platform is known)."""
        return self.verify_url or self.central.url or ""

    def open_outbox(self, path: Path) -> OutboxStore:
        """The outbox at *path* with this terminal's retention and size limit."""
        from offline.outbox import OutboxStore

        return OutboxStore(
            path,
            max_bytes=self.outbox.max_mb * 1024 * 1024,
            retention=timedelta(days=self.outbox.retention_days),
        )

    def device_config(self) -> dict[DeviceKind, dict[str, Any]]:
        return {DeviceKind(name): dev.options() for name, dev in self.devices.items()}

    def simulated(self) -> Settings:
        """The same settings with every device replaced by its simulator, the embedded platform
        on unless told otherwise, and signed configuration trusting the keys in the data
        directory unless told otherwise (a simulated terminal has no root-owned folder to
        trust)."""
        central = self.central
        if "embedded" not in central.model_fields_set:  # trying it out: a platform of its own
            central = central.model_copy(update={"embedded": True})
        if central.config_trust is None and self.data_dir is not None:
            trust = self.data_dir / "keys" / "config-trust"
            central = central.model_copy(update={"config_trust": trust})
        return self.model_copy(update={"devices": _default_devices(), "central": central})


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("kiosk-terminal", appauthor=False))


def load_settings(config_file: Path | None = None, data_dir: Path | None = None) -> Settings:
    """Defaults, then *config_file* (TOML), then the environment, then *data_dir* from the CLI."""
    raw: dict[str, Any] = {}
    if config_file is not None:
        try:
            raw = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"{config_file}: cannot read ({exc.strerror})") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{config_file}: not valid TOML ({exc})") from exc
    central = raw.setdefault("central", {})
    if not isinstance(central, dict):
        raise SettingsError(f"{config_file}: [central] must be a table")
    for env, key in (
        ("KIOSK_CENTRAL_URL", "url"),
        ("KIOSK_ID", "kiosk_id"),
        ("KIOSK_TOKEN", "token"),
    ):
        if os.environ.get(env):
            central[key] = os.environ[env]
    if os.environ.get("KIOSK_DATA_DIR"):
        raw["data_dir"] = os.environ["KIOSK_DATA_DIR"]
    if data_dir is not None:
        raw["data_dir"] = str(data_dir)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        source = str(config_file) if config_file else "settings"
        raise SettingsError(f"{source}: {where}: {first['msg']}") from exc
    if settings.data_dir is None:
        settings = settings.model_copy(update={"data_dir": default_data_dir()})
    return settings


SYSTEM_TRUST = Path("/etc/kiosk/config-trust")


def trust_dir(settings: Settings) -> Path:
    """Where the keys that sign this terminal's configuration are (README "Signed
    configuration")."""
    return settings.central.config_trust or SYSTEM_TRUST


def data_dir_of(settings: Settings) -> Path:
    assert settings.data_dir is not None, "load_settings always sets data_dir"
    return settings.data_dir
