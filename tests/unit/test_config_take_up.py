"""Taking a signed configuration up while running: the updater's asynchronous side (the final
report waits on disk until delivered; an unhealthy bundle is rolled back; a restart while a
bundle was waiting is reported) and the live take-up between visits, with its health check
(receipts laid out before anything is shown); where the trusted keys come from."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from contracts.catalogue import Catalogue, parse_catalogue
from contracts.device_kinds import DeviceKind
from contracts.payload import SCHEMA_VERSION, ConfigPayload
from contracts.signing import generate, load_private, sign
from contracts.verify import Verified
from kiosk.config.live import LiveConfig, health_problems
from kiosk.config.settings import SYSTEM_TRUST, Settings, load_settings, trust_dir
from kiosk.config.shipped import default_catalogue
from kiosk.config.updater import WAITING, ConfigUpdater, Outcome
from kiosk.visit.session import State

CATALOGUE = json.loads(
    (Path(__file__).parents[2] / "kiosk" / "config" / "catalogue.json").read_text()
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    keys = tmp_path / "keys-operator"
    trusted = tmp_path / "data" / "keys" / "config-trust"
    trusted.mkdir(parents=True)
    for name in ("alice", "bob", "carol"):
        generate(keys, name)
        (trusted / f"{name}.pub").write_text((keys / f"{name}.pub").read_text())
    (trusted / "threshold").write_text("2\n")
    return tmp_path / "data"


def bundle(data_dir: Path, version: int, payload: dict[str, Any] | None = None) -> bytes:
    now = datetime.now().astimezone()
    signed = {
        "version": version,
        "issued_at": now.isoformat(),
        "expires_at": (now + timedelta(days=30)).isoformat(),
        "targets": {"kiosks": [], "groups": ["hepingli"]},
        "payload": payload or {"schema_version": SCHEMA_VERSION, "timeouts": {"identify": 100}},
    }
    keys = data_dir.parent / "keys-operator"
    sigs = [sign(signed, load_private(keys / f"{n}.key")) for n in ("alice", "bob")]
    return json.dumps({"signed": signed, "signatures": sigs}).encode()


class Hook:
    """Stands in for the running app: keeps what it was handed, answers when told."""

    def __init__(self) -> None:
        self.handed: list[tuple[Verified, Outcome]] = []

    def __call__(self, verified: Verified, outcome: Outcome) -> None:
        self.handed.append((verified, outcome))


def updater(data_dir: Path, hook: Hook | None, woken: list[int] | None = None) -> ConfigUpdater:
    return ConfigUpdater(
        data_dir, "kiosk-7", frozenset({"hepingli"}), take_up=hook,
        trusted=data_dir / "keys" / "config-trust",
        report_due=(lambda: woken.append(1)) if woken is not None else None,
    )  # fmt: skip


def test_a_healthy_take_up_is_reported_once_delivered(data_dir: Path) -> None:
    hook, woken = Hook(), []
    up = updater(data_dir, hook, woken)
    first = up.offer(bundle(data_dir, 1))
    assert first == {"version": 1, "running": 1, "status": "applied", "reason": WAITING}
    assert up.due_report() is None and len(hook.handed) == 1
    verified, outcome = hook.handed[0]
    assert verified.version == 1
    outcome(True, "")
    due = up.due_report()
    assert due == {"version": 1, "running": 1, "status": "applied", "reason": ""}
    assert woken == [1]  # the sync worker is told at once
    # Until the platform has it, it survives a restart.
    assert updater(data_dir, Hook()).due_report() == due
    up.report_delivered(due)
    assert up.due_report() is None


def test_an_unhealthy_first_bundle_goes_back_to_the_local_configuration(data_dir: Path) -> None:
    hook = Hook()
    up = updater(data_dir, hook)
    up.offer(bundle(data_dir, 1))
    hook.handed[0][1](False, "no service can run")
    state = up.store.state()
    assert state.current is None and state.highest == 1
    assert up.due_report() == {
        "version": 1, "running": None, "status": "rolled_back",
        "reason": "health check failed: no service can run",
    }  # fmt: skip
    # The version rolled back from can never come back; a newer one can.
    assert up.offer(bundle(data_dir, 1))["status"] == "rejected"
    assert up.offer(bundle(data_dir, 2))["status"] == "applied"


def test_an_unhealthy_update_goes_back_to_the_previous_bundle(data_dir: Path) -> None:
    hook = Hook()
    up = updater(data_dir, hook)
    up.offer(bundle(data_dir, 1))
    hook.handed[0][1](True, "")
    up.offer(bundle(data_dir, 2))
    hook.handed[1][1](False, "broken")
    assert up.store.state().current == 1
    due = up.due_report()
    assert due is not None and due["status"] == "rolled_back" and due["running"] == 1


def test_a_restart_while_waiting_reports_the_bundle_in_force(data_dir: Path) -> None:
    up = updater(data_dir, Hook())
    up.offer(bundle(data_dir, 3))
    # The terminal stopped before the attract screen came: at the next start the bundle is in
    # force (laid over the local configuration), and the platform hears that.
    again = updater(data_dir, Hook())
    assert again.due_report() == {
        "version": 3,
        "running": 3,
        "status": "applied",
        "reason": "in force since a restart",
    }


def test_without_a_take_up_a_bundle_is_for_the_next_start(data_dir: Path) -> None:
    up = updater(data_dir, None)
    report = up.offer(bundle(data_dir, 1))
    assert report["reason"] == "in force from the next start"
    assert updater(data_dir, None).due_report() is None


def test_a_refused_bundle_never_reaches_the_app(data_dir: Path) -> None:
    hook = Hook()
    up = updater(data_dir, hook)
    doc = json.loads(bundle(data_dir, 1))
    doc["signed"]["payload"]["timeouts"]["identify"] = 600
    report = up.offer(json.dumps(doc).encode())
    assert report["status"] == "rejected" and "bad_signature" in report["reason"]
    assert hook.handed == [] and up.store.state().current is None


def test_health_check() -> None:
    kinds = [DeviceKind.ID_CARD_READER, DeviceKind.RECEIPT_PRINTER]
    assert health_problems(default_catalogue(), kinds) == []
    # Feedback needs no device at all: even a terminal without any is of some use.
    assert health_problems(default_catalogue(), []) == []
    scanning_only = parse_catalogue({"services": [
        {"code": "checkin", "name": {"zh_CN": "预约签到", "en": "Check-in"}, "steps": ["scan"],
         "action": "checkin", "query": "appointment_checkin"},
        {"code": "staff", "name": {"zh_CN": "呼叫工作人员", "en": "Call staff"}, "steps": [],
         "action": "call_staff"},
    ]})  # fmt: skip
    assert health_problems(scanning_only, kinds) == [
        "no service in the catalogue can run on this terminal's devices"
    ]
    assert health_problems(scanning_only, [*kinds, DeviceKind.CAMERA]) == []


def test_trusted_keys_are_never_taken_from_the_data_directory_by_default(data_dir: Path) -> None:
    """Anything running as the kiosk user can write the data directory: keys found there must
    not be trusted unless asked for (--simulate, or [central] config_trust)."""
    up = ConfigUpdater(data_dir, "kiosk-7", frozenset({"hepingli"}), take_up=Hook())
    assert up.trusted == SYSTEM_TRUST == Path("/etc/kiosk/config-trust")
    if not SYSTEM_TRUST.exists():
        report = up.offer(bundle(data_dir, 1))
        assert report["status"] == "rejected" and "/etc/kiosk/config-trust" in report["reason"]
        assert up.store.state().current is None


def test_where_the_trusted_keys_are(data_dir: Path, tmp_path: Path) -> None:
    settings = load_settings(None, data_dir)
    assert trust_dir(settings) == SYSTEM_TRUST  # a real terminal: root's folder
    assert trust_dir(settings.simulated()) == data_dir / "keys" / "config-trust"
    elsewhere = tmp_path / "trust"
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[central]\nconfig_trust = "{elsewhere}"\nconfig_clock_skew = 60\nconfig_max_days = 30\n'
    )
    configured = load_settings(config, data_dir)
    assert trust_dir(configured) == trust_dir(configured.simulated()) == elsewhere
    up = ConfigUpdater.from_settings(configured)
    assert (up.trusted, up.max_skew, up.max_validity) == (
        elsewhere, timedelta(seconds=60), timedelta(days=30),
    )  # fmt: skip


def test_a_restart_with_a_tampered_waiting_bundle_reports_it_refused(data_dir: Path) -> None:
    up = updater(data_dir, Hook())
    up.offer(bundle(data_dir, 3))
    path = up.store.bundle_path(3)
    path.write_bytes(path.read_bytes().replace(b'"identify": 100', b'"identify": 900'))
    due = updater(data_dir, Hook()).due_report()
    assert due is not None and due["status"] == "rejected"
    assert due["reason"].startswith("refused at start: bad_signature:")


# -- the live take-up, on a stand-in controller (the real window is tests/qt/test_live_config) --


@dataclass
class Session:
    catalogue: Catalogue
    state: State = State.ATTRACT
    holds_personal_data: bool = False


class Devices:
    def statuses(self) -> list[Any]:
        return [type("Status", (), {"kind": kind})() for kind in DeviceKind]


class Db:
    def run(self, work: Callable[[], object]) -> None:
        work()


@dataclass
class Controller:
    settings: Settings
    session: Session
    devices: Devices = field(default_factory=Devices)
    db: Db = field(default_factory=Db)
    shown: list[tuple[Settings, Catalogue]] = field(default_factory=list)

    def add_view_listener(self, listener: object) -> None:
        pass

    def reconfigure(self, settings: Settings, catalogue: Catalogue) -> None:
        self.settings, self.session.catalogue = settings, catalogue
        self.shown.append((settings, catalogue))


def take_up(payload: ConfigPayload, tmp_path: Path) -> tuple[Controller, list[tuple[bool, str]]]:
    local, catalogue = load_settings(None, tmp_path), default_catalogue()
    controller = Controller(local, Session(catalogue))
    live = LiveConfig(controller, local, catalogue, lambda s, c: None, lambda f: f())  # type: ignore[arg-type]
    outcomes: list[tuple[bool, str]] = []
    now = datetime.now().astimezone()
    verified = Verified(1, now, now + timedelta(days=1), payload, b"")
    live.take_up(verified, lambda healthy, detail: outcomes.append((healthy, detail)))
    return controller, outcomes


def test_a_receipt_that_cannot_be_laid_out_is_never_taken_up(tmp_path: Path) -> None:
    """The schema refuses this placeholder; a payload past it (an older terminal's schema, a
    bug) must still not reach residents: the health check lays out a receipt of every kind
    before the configuration is shown, and it fails here."""
    broken = ConfigPayload.model_construct(
        schema_version=2, language=None, centre=None, timeouts=None, catalogue=None,
        receipt_qr="KIOSK:{ticket_no}",
    )  # fmt: skip
    controller, outcomes = take_up(broken, tmp_path)
    [(healthy, detail)] = outcomes
    assert not healthy
    assert detail.startswith("the ticket receipt cannot be laid out: KeyError: 'ticket_no'")
    assert "the slip receipt cannot be laid out" in detail
    assert controller.shown == []  # never installed, not even for a moment
    assert controller.settings.receipt_qr == "KIOSK-TICKET:{uuid}"


def test_a_configuration_whose_receipts_lay_out_is_taken_up(tmp_path: Path) -> None:
    good = ConfigPayload(schema_version=2, receipt_qr="T:{ticket}/{uuid}")
    controller, outcomes = take_up(good, tmp_path)
    assert outcomes == [(True, "")]
    assert controller.settings.receipt_qr == "T:{ticket}/{uuid}"
