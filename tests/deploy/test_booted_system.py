"""The README's deploying chapter on a Debian 12 that boots: both packages (an older version)
installed with apt into a fresh root, booted under systemd as PID 1 (systemd-nspawn --boot), then
in order: kiosk.service starts at boot as kiosk and is active once the attract screen is painted
(READY=1), and that screen is on the display; the platform's unit waits for its certificate,
starts with PostgreSQL and TLS once given one, and the terminal's service delivers a transaction
to it; the watchdog drill: a hung UI is killed and restarted by systemd; an upgrade to this
checkout's version keeps data, configuration and the service users and restarts both services;
a removal keeps data and configuration, a purge does not.

For the test only, a drop-in (DROP_IN) points the session at Xvfb (a container has no GPU and
no VT) and shortens WatchdogSec to 10 s. Screenshots and the console are kept beside the root:
/var/tmp/kiosk-boot-root.*.png, .console.log.

Needs root, systemd-nspawn (systemd-container) and Debian's mirror and PyPI the first time;
about 4 minutes.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.deploy.booted_root import BootedRoot, wait_until
from tests.deploy.package_build import (
    NEEDS_ROOT_AND_DEBIAN,
    REPO,
    build_packages,
    deb_version,
    run_logged,
)

ROOT = Path(os.environ.get("KIOSK_BOOT_ROOT", "/var/tmp/kiosk-boot-root"))
# The minimal root test_packages.py's root is copied from: built once for both.
BASE = Path(os.environ.get("KIOSK_PACKAGE_ROOT", "/var/tmp/kiosk-package-root") + ".base")
WATCHDOG_SEC = 10
SCREEN = (1920, 1080)
DROP_IN = f"""\
# tests/deploy/test_booted_system.py, for the test only: a container has no GPU and no VT, so
# the session's X server is Xvfb and nothing is set up on tty7; a shorter watchdog period; the
# drill's hang file (README "Watchdog and restarts").
[Service]
Environment="KIOSK_X_SERVER=/usr/bin/Xvfb -screen 0 {SCREEN[0]}x{SCREEN[1]}x24"
Environment=KIOSK_DEBUG_HANG_FILE=/var/lib/kiosk/hang
StandardInput=null
TTYReset=no
TTYVHangup=no
TTYVTDisallocate=no
WatchdogSec={WATCHDOG_SEC}
"""
# screens/theme.py: the normal theme's background and primary colours.
BACKGROUND = (0xF5, 0xF1, 0xE8)
PRIMARY = (0x0B, 0x61, 0x58)

pytestmark = [
    *NEEDS_ROOT_AND_DEBIAN,
    pytest.mark.skipif(
        shutil.which("systemd-nspawn") is None,
        reason="boots a Debian root: needs systemd-nspawn (apt install systemd-container)",
    ),
    pytest.mark.skipif(shutil.which("import") is None, reason="needs ImageMagick's import"),
]


@pytest.fixture(scope="module")
def previous_debs(
    debs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """The same code as an older version ("~previous" sorts before the version itself)."""
    version = deb_version(debs["kiosk-terminal"]) + "~previous"
    return build_packages(tmp_path_factory.mktemp("previous"), version)


@pytest.fixture(scope="module")
def booted(
    previous_debs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BootedRoot]:
    log = tmp_path_factory.mktemp("boot") / "package-root.log"
    script = str(REPO / "deploy/package-root.sh")
    argv = [script, "--root", str(ROOT), "--base", str(BASE), "--with", "xvfb"]
    run_logged([*argv, *map(str, previous_debs.values())], log, 1500)
    # A booted system starts services from maintainer scripts; the chroot's guard must go.
    (ROOT / "usr/sbin/policy-rc.d").unlink()
    drop_in = ROOT / "etc/systemd/system/kiosk.service.d/50-boot-test.conf"
    drop_in.parent.mkdir(parents=True)
    drop_in.write_text(DROP_IN)
    system = BootedRoot(ROOT, Path(f"{ROOT}.console.log"))
    try:
        yield system
    finally:
        system.poweroff()
        left = _processes_in(ROOT)
        assert not left, f"processes left in {ROOT}: {left}"


def _processes_in(root: Path) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/root") == str(root):
                found.append(int(pid))
        except OSError:
            continue
    return found


def _active(
    system: BootedRoot, unit: str, not_pid: dict[str, str] | None = None
) -> dict[str, str] | None:
    """*unit*'s state when it is active (and its main process is not that of *not_pid*)."""
    props = system.unit(unit, "ActiveState", "SubState", "MainPID", "NRestarts", "Result")
    if props["ActiveState"] != "active":
        return None
    if not_pid is not None and props["MainPID"] == not_pid["MainPID"]:
        return None
    return props


def _user_of(system: BootedRoot, pid: str) -> str:
    return system.must("stat", "-c", "%U", f"/proc/{pid}").strip()


def _attract_on_screen(system: BootedRoot, name: str) -> Path:
    """A screenshot of the session's display, once it shows the attract screen: full screen,
    the theme's background over most of it, the start button's colour on a part."""
    display = re.findall(r"kiosk-session: display (:\d+)", system.journal("kiosk.service"))
    assert display, "the session named no display"
    png = Path(f"{ROOT}.{name}.png")

    def shows_attract() -> str | None:
        system.screenshot(display[-1], png)
        with Image.open(png) as image:
            size = image.size
            colours = image.convert("RGB").getcolors(maxcolors=size[0] * size[1]) or []
        share = {colour: count / (size[0] * size[1]) for count, colour in colours}
        if size == SCREEN and share.get(BACKGROUND, 0) > 0.4 and share.get(PRIMARY, 0) > 0.01:
            return str(png)
        return None

    return Path(wait_until(f"the attract screen on {display[-1]}", shows_attract, 60))


# --- the terminal at boot --------------------------------------------------------------------


def test_the_terminal_starts_at_boot_into_the_attract_screen_as_kiosk(
    booted: BootedRoot,
) -> None:
    """Type=notify: active once READY=1 came, which the terminal says after the first paint."""
    kiosk = wait_until("kiosk.service active", lambda: _active(booted, "kiosk.service"), 240)
    assert kiosk["NRestarts"] == "0", kiosk
    assert _user_of(booted, kiosk["MainPID"]) == "kiosk"
    command = booted.must("cat", f"/proc/{kiosk['MainPID']}/cmdline").replace("\0", " ")
    assert "kiosk run --config /etc/kiosk/kiosk.toml" in command
    _attract_on_screen(booted, "attract-at-boot")
    journal = booted.journal("kiosk.service")
    # The X server is not given the notify socket: only the terminal speaks there.
    assert "reception only permitted for main PID" not in journal
    state = booted.run("systemctl", "is-system-running", "--wait", timeout=240).stdout.strip()
    failed = booted.must("systemctl", "--failed", "--plain", "--no-legend")
    assert state == "running", failed
    # The platform's unit waits for its certificate: not started, not failed.
    central = booted.unit("kiosk-central.service", "ActiveState", "ConditionResult", "Result")
    assert central == {"ActiveState": "inactive", "ConditionResult": "no", "Result": "success"}


# --- the platform, and the terminal syncing to it -----------------------------------------------


def test_the_platform_serves_tls_on_postgresql_and_the_terminal_service_syncs_to_it(
    booted: BootedRoot,
) -> None:
    """README "The platform" and "Registering a terminal", in the booted system: the database,
    the certificate, systemctl start; a terminal registered, pointed at it and restarted; a
    transaction recorded before the restart is delivered by the service."""
    import trustme

    setup = wait_until(
        "kiosk-central-setup-db with PostgreSQL up",
        lambda: booted.run("kiosk-central-setup-db").returncode == 0 or None, 120,
    )  # fmt: skip
    assert setup
    # The port the platform's settings take (libpq's default), as on a machine of its own.
    assert booted.must("pg_lsclusters", "--no-header").split()[:4] == [
        "15",
        "main",
        "5432",
        "online",
    ]
    ca = trustme.CA()
    leaf = ca.issue_cert("localhost")
    tls = ROOT / "etc/kiosk-central/tls"
    leaf.private_key_pem.write_to_path(str(tls / "platform.key"))
    (tls / "platform.pem").write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    for name in ("platform.pem", "platform.key"):
        booted.must("chown", "root:kiosk-central", f"/etc/kiosk-central/tls/{name}")
        (tls / name).chmod(0o640)
    ca.cert_pem.write_to_path(str(ROOT / "etc/kiosk/platform-ca.pem"))
    (ROOT / "etc/kiosk/platform-ca.pem").chmod(0o644)

    booted.must("systemctl", "start", "kiosk-central")
    wait_until(
        "kiosk-central listening",
        lambda: "listening on https://0.0.0.0:8700" in booted.journal("kiosk-central.service"),
        60,
    )
    central = wait_until("kiosk-central active", lambda: _active(booted, "kiosk-central"), 10)
    assert _user_of(booted, central["MainPID"]) == "kiosk-central"
    assert booted.unit("kiosk-central", "Type")["Type"] == "exec"

    token = booted.must("kiosk-central", "kiosk", "add", "kiosk-001", user="kiosk-central")
    config = ROOT / "etc/kiosk/kiosk.toml"
    config.write_text(
        config.read_text().replace(
            "embedded = false",
            'url = "https://localhost:8700"\nkiosk_id = "kiosk-001"\n'
            f'token = "{token.strip()}"\nca_file = "/etc/kiosk/platform-ca.pem"\nembedded = false',
        )
    )
    uuid = _enqueue(booted, "before the restart")
    cursor = booted.cursor()
    booted.must("systemctl", "restart", "kiosk")
    wait_until("the terminal's delivery", lambda: uuid in _exported(booted), 90)
    # The stop of a restart ends cleanly (KillMode=mixed): never a failed unit.
    stopped = booted.journal("kiosk.service", after=cursor)
    assert "Deactivated successfully" in stopped and "Failed with result" not in stopped, stopped


def _enqueue(system: BootedRoot, note: str) -> str:
    return system.must(
        "kiosk", "queue", "enqueue", "--service", "feedback", "--payload",
        f'{{"note": "{note}"}}', "--config", "/etc/kiosk/kiosk.toml", user="kiosk",
    ).strip()  # fmt: skip


def _exported(system: BootedRoot) -> str:
    return system.must("kiosk-central", "export", "--kiosk", "kiosk-001", user="kiosk-central")


# --- the watchdog drill ------------------------------------------------------------------------


def test_a_hung_ui_is_killed_and_restarted_by_the_watchdog(booted: BootedRoot) -> None:
    """README "Watchdog and restarts": with the hang file, the Qt main thread blocks, the pings
    stop, and within WatchdogSec systemd kills the terminal and starts it again."""
    before = wait_until("kiosk.service active", lambda: _active(booted, "kiosk.service"), 60)
    # First, alive: a terminal that pings is not restarted over a whole period and more.
    # (systemd's monotonic clock is this one: a container shares the kernel.)
    since = booted.unit("kiosk", "ActiveEnterTimestampMonotonic")["ActiveEnterTimestampMonotonic"]
    started = int(since) / 1e6
    wait_until(
        "1.5 watchdog periods of uptime",
        lambda: time.monotonic() - started > 1.5 * WATCHDOG_SEC, 3 * WATCHDOG_SEC,
    )  # fmt: skip
    assert _active(booted, "kiosk.service") == before, "restarted without a hang"

    cursor = booted.cursor()
    booted.must("touch", "/var/lib/kiosk/hang")
    hung_at = time.monotonic()
    try:
        wait_until(
            "Watchdog timeout in the journal",
            lambda: "Watchdog timeout" in booted.journal("kiosk.service", after=cursor),
            WATCHDOG_SEC + 15,
        )
        noticed = time.monotonic() - hung_at
    finally:
        booted.must("rm", "-f", "/var/lib/kiosk/hang")
    after = wait_until(
        "kiosk.service restarted", lambda: _active(booted, "kiosk.service", not_pid=before), 60
    )
    assert int(after["NRestarts"]) == int(before["NRestarts"]) + 1, (before, after)
    journal = booted.journal("kiosk.service", after=cursor)
    assert f"Watchdog timeout (limit {WATCHDOG_SEC}s)!" in journal
    assert f"Killing process {before['MainPID']} (kiosk) with signal SIGABRT" in journal
    assert noticed < WATCHDOG_SEC + 5, noticed
    _attract_on_screen(booted, "attract-after-watchdog")


# --- upgrade, removal, purge -----------------------------------------------------------------


def _ids(system: BootedRoot) -> dict[str, str]:
    out = {}
    for name in ("kiosk", "kiosk-central"):
        out[name] = system.must("id", name).strip()
    return out


def _queue_total(system: BootedRoot) -> int:
    status = system.must(
        "kiosk", "queue", "status", "--json", "--config", "/etc/kiosk/kiosk.toml", user="kiosk"
    )
    return int(re.search(r'"total": (\d+)', status).group(1))  # type: ignore[union-attr]


EDITED = {
    "etc/kiosk/session.conf": ("blank_idle_minutes=2", "blank_idle_minutes=3"),
    "etc/kiosk-central/central.env": ("\nKIOSK_CENTRAL_PORT=", "\n# edited\nKIOSK_CENTRAL_PORT="),
}


def test_an_upgrade_keeps_data_configuration_and_users_and_restarts_both_services(
    booted: BootedRoot, debs: dict[str, Path], previous_debs: dict[str, Path]
) -> None:
    """README "Updating and removing": apt install of the newer packages over the running
    older ones."""
    old = deb_version(previous_debs["kiosk-terminal"])
    new = deb_version(debs["kiosk-terminal"])
    installed = booted.must("dpkg-query", "-W", "-f", "${Version}", "kiosk-terminal")
    assert installed == old
    for path, (was, edited) in EDITED.items():
        (ROOT / path).write_text((ROOT / path).read_text().replace(was, edited))
    kept = {
        path: (ROOT / path).read_bytes()
        for path in ("etc/kiosk/kiosk.toml", *EDITED, "etc/kiosk-central/tls/platform.pem")
    }
    ids = _ids(booted)
    terminal = wait_until("kiosk active", lambda: _active(booted, "kiosk.service"), 60)
    assert _active(booted, "kiosk-central.service")
    total = _queue_total(booted)
    waiting = _enqueue(booted, "before the upgrade")

    incoming = ROOT / "var/tmp/kiosk-upgrade"
    incoming.mkdir()
    for deb in debs.values():
        shutil.copy(deb, incoming)
    upgrade = booted.run(
        "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
        *(f"/var/tmp/kiosk-upgrade/{deb.name}" for deb in debs.values()), timeout=900,
    )  # fmt: skip
    assert upgrade.returncode == 0, upgrade.stdout[-3000:] + upgrade.stderr
    shutil.rmtree(incoming)

    for package in ("kiosk-terminal", "kiosk-central"):
        assert booted.must("dpkg-query", "-W", "-f", "${Version}", package) == new
    for path, content in kept.items():
        assert (ROOT / path).read_bytes() == content, path
    assert (
        booted.must("stat", "-c", "%U:%G %a", "/etc/kiosk/kiosk.toml").strip() == "root:kiosk 640"
    )
    assert _ids(booted) == ids
    # Both were running: both run again, the terminal a new process of the new version.
    wait_until("kiosk active again", lambda: _active(booted, "kiosk.service", terminal), 120)
    assert _active(booted, "kiosk-central.service")
    # The data: the outbox and the platform's database. The transaction that waited is
    # delivered by the upgraded terminal.
    assert _queue_total(booted) == total + 1
    wait_until("the upgraded terminal's delivery", lambda: waiting in _exported(booted), 90)


def test_removal_keeps_data_and_configuration_and_purge_removes_them(booted: BootedRoot) -> None:
    marker = ROOT / "var/lib/kiosk-central/marker"
    marker.write_text("kept\n")
    config = (ROOT / "etc/kiosk/kiosk.toml").read_bytes()
    remove = booted.run(
        "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "remove", "-y", "-q",
        "kiosk-terminal", "kiosk-central", timeout=300,
    )  # fmt: skip
    assert remove.returncode == 0, remove.stdout[-3000:] + remove.stderr
    for unit in ("kiosk.service", "kiosk-central.service"):
        assert booted.unit(unit, "ActiveState")["ActiveState"] == "inactive", unit
    assert not (ROOT / "opt/kiosk-terminal/venv").exists()
    assert not (ROOT / "opt/kiosk-central/venv").exists()
    assert (ROOT / "var/lib/kiosk/kiosk.db").exists() and marker.exists()
    assert (ROOT / "etc/kiosk/kiosk.toml").read_bytes() == config
    assert booted.must("systemctl", "--failed", "--plain", "--no-legend").strip() == ""

    purge = booted.run(
        "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "purge", "-y", "-q",
        "kiosk-terminal", "kiosk-central", timeout=300,
    )  # fmt: skip
    assert purge.returncode == 0, purge.stdout[-3000:] + purge.stderr
    for gone in (
        "etc/kiosk", "var/lib/kiosk", "opt/kiosk-terminal",
        "etc/kiosk-central", "var/lib/kiosk-central", "opt/kiosk-central",
    ):  # fmt: skip
        assert not (ROOT / gone).exists(), gone
    # The users stay, as Debian's packages leave theirs.
    assert booted.run("id", "kiosk").returncode == 0
