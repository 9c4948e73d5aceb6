"""The Debian packages, built by deploy/build-packages.sh and installed by
deploy/package-root.sh into a fresh Debian 12 root (debootstrap minbase, a chroot): files,
owners, modes, the service users and their groups, both commands run as those users, the
configuration out of the service's reach, the units verified there, the terminal started as
systemd would start it (notify socket, watchdog) up to its attract screen, the platform on
PostgreSQL over TLS with a terminal syncing to it. (The root booted under systemd, with an
upgrade from an older version, a removal and a purge: test_booted_system.py.)

Needs root (chroot, mount) and Debian's mirror and PyPI the first time (the base root and the
downloads are kept in /var/tmp for the next run); about 3 minutes.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.package_build import NEEDS_ROOT_AND_DEBIAN, REPO, run_logged

ROOT = Path(os.environ.get("KIOSK_PACKAGE_ROOT", "/var/tmp/kiosk-package-root"))
UNITS = ("kiosk.service", "kiosk-central.service")
TERMINAL_GROUPS = {"dialout", "lp", "video", "render", "audio", "input"}

pytestmark = NEEDS_ROOT_AND_DEBIAN


@pytest.fixture(scope="module")
def root(debs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = tmp_path_factory.mktemp("root") / "package-root.log"
    script = str(REPO / "deploy/package-root.sh")
    run_logged([script, "--root", str(ROOT), *map(str, debs.values())], log, 1500)
    return ROOT


def in_root(
    root: Path, *argv: str, user: str | None = None, env: dict[str, str] | None = None,
    timeout: float = 120, **popen: object,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """A command in the root (its own /proc and /dev/shm, in a mount namespace that goes with
    it), as *user* through runuser, with a clean environment."""
    return subprocess.run(
        _in_root_argv(root, *argv, user=user, env=env),
        capture_output=True, text=True, timeout=timeout, check=False, **popen,  # type: ignore[call-overload]
    )  # fmt: skip


def _in_root_argv(
    root: Path, *argv: str, user: str | None = None, env: dict[str, str] | None = None
) -> list[str]:
    clean = ["/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]
    clean += [f"{k}={v}" for k, v in (env or {}).items()]
    as_user = ["runuser", "-u", user, "--"] if user else []
    mount = (
        'mount -t proc proc "$0/proc" && mount -t tmpfs -o mode=1777 shm "$0/dev/shm"'
        ' && exec chroot "$0" "$@"'
    )
    return [
        "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", mount, str(root),
        *as_user, *clean, *argv,
    ]  # fmt: skip


def _ids(root: Path, database: str) -> dict[str, list[str]]:
    rows = (root / "etc" / database).read_text().splitlines()
    return {row.split(":")[0]: row.split(":") for row in rows if row}


def _owner(root: Path, path: str) -> tuple[str, str, int]:
    info = (root / path.lstrip("/")).lstat()
    users = {int(fields[2]): name for name, fields in _ids(root, "passwd").items()}
    groups = {int(fields[2]): name for name, fields in _ids(root, "group").items()}
    return users[info.st_uid], groups[info.st_gid], stat.S_IMODE(info.st_mode)


def writable_by(root: Path, user: str, path: str) -> list[str]:
    """The files and folders under *path* that *user* can change (test -w as that user, and a
    new file in each folder)."""
    script = (
        'find "$1" -xdev | while IFS= read -r f; do'
        ' if [ -w "$f" ]; then echo "$f"; fi;'
        ' if [ -d "$f" ] && touch "$f/.kiosk-probe" 2>/dev/null; then'
        ' rm -f "$f/.kiosk-probe"; echo "$f/ (new files)"; fi; done'
    )
    result = in_root(root, "sh", "-c", script, "sh", path, user=user)
    return result.stdout.split("\n")[:-1]


# --- the terminal ------------------------------------------------------------------------------


def test_terminal_files_owners_and_modes(root: Path) -> None:
    assert _owner(root, "/etc/kiosk") == ("root", "root", 0o755)
    assert _owner(root, "/etc/kiosk/config-trust") == ("root", "root", 0o755)
    assert _owner(root, "/etc/kiosk/kiosk.toml") == ("root", "kiosk", 0o640)  # holds the token
    assert _owner(root, "/etc/kiosk/session.conf") == ("root", "root", 0o644)
    assert _owner(root, "/var/lib/kiosk") == ("kiosk", "kiosk", 0o750)
    assert _owner(root, "/opt/kiosk-terminal/venv/bin/kiosk")[:2] == ("root", "root")
    for path in (
        "/lib/systemd/system/kiosk.service",
        "/lib/udev/rules.d/60-kiosk-devices.rules",
        "/usr/lib/systemd/journald.conf.d/60-kiosk-terminal.conf",
    ):
        assert _owner(root, path) == ("root", "root", 0o644), path
    assert _owner(root, "/opt/kiosk-terminal/libexec/kiosk-session") == ("root", "root", 0o755)
    # Nothing of the application is the service's to change.
    assert writable_by(root, "kiosk", "/opt/kiosk-terminal/venv/bin") == []


def test_the_kiosk_user_is_a_system_user_in_its_devices_groups(root: Path) -> None:
    passwd = _ids(root, "passwd")["kiosk"]
    assert int(passwd[2]) < 1000
    assert passwd[5:] == ["/var/lib/kiosk", "/usr/sbin/nologin"]
    member_of = {name for name, fields in _ids(root, "group").items() if "kiosk" in fields[3]}
    assert member_of == TERMINAL_GROUPS


def test_etc_kiosk_is_not_writable_by_kiosk(root: Path) -> None:
    assert writable_by(root, "kiosk", "/etc/kiosk") == []
    assert "/var/lib/kiosk" in writable_by(root, "kiosk", "/var/lib/kiosk")


def test_the_writability_check_sees_a_writable_etc_kiosk(root: Path) -> None:
    """Given /etc/kiosk handed to the kiosk user (the mistake the check guards against), the
    check names it; then it is put back."""
    config = root / "etc/kiosk/config-trust"
    os.chown(config, int(_ids(root, "passwd")["kiosk"][2]), 0)
    try:
        assert writable_by(root, "kiosk", "/etc/kiosk") == [
            "/etc/kiosk/config-trust",
            "/etc/kiosk/config-trust/ (new files)",
        ]
    finally:
        os.chown(config, 0, 0)


def test_kiosk_version_runs_as_kiosk(root: Path) -> None:
    result = in_root(root, "kiosk", "--version", user="kiosk")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kiosk, version ")


def test_the_terminal_stack_loads_with_debians_libraries(root: Path, tmp_path: Path) -> None:
    """Qt (with its xcb platform plugin), OpenCV, pyscard and the printer driver import, and a
    test receipt prints, as kiosk, with only what the package depends on."""
    code = (
        "from PySide6.QtGui import QGuiApplication; import cv2, smartcard, escpos, zxingcpp;"
        "from pathlib import Path; import PySide6;"
        "p = Path(PySide6.__file__).parent / 'Qt/plugins/platforms/libqxcb.so';"
        "assert p.exists(), p; app = QGuiApplication([]); print(app.platformName())"
    )
    python = "/opt/kiosk-terminal/venv/bin/python"
    result = in_root(root, python, "-c", code, user="kiosk", env={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "offscreen"
    # The xcb plugin's libraries are all there (ldd names a missing one "not found").
    plugin = "/opt/kiosk-terminal/venv/lib/python3.11/site-packages/PySide6/Qt/plugins/platforms"
    ldd = in_root(root, "ldd", f"{plugin}/libqxcb.so")
    assert ldd.returncode == 0 and "not found" not in ldd.stdout, ldd.stdout
    receipt = in_root(
        root, "kiosk", "diag", "print-test", "--driver", "escpos-file", "--path",
        "/var/lib/kiosk/receipt.bin", user="kiosk",
    )  # fmt: skip
    assert receipt.returncode == 0, receipt.stderr
    assert (root / "var/lib/kiosk/receipt.bin").stat().st_size > 100


def test_the_installed_terminal_starts_as_systemd_starts_it(root: Path, tmp_path: Path) -> None:
    """kiosk run as the unit runs it (the installed configuration, as kiosk, a notify socket
    and WATCHDOG_USEC), offscreen since a chroot has no display: READY=1 once the attract
    screen is painted, WATCHDOG=1 after it (at a third of the 3 s period), STOPPING=1 and
    exit 0 on SIGTERM."""
    sock_path = root / "run/kiosk-notify-test"
    sock_path.unlink(missing_ok=True)
    log = tmp_path / "kiosk-run.log"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock, log.open("wb") as out:
        sock.bind(str(sock_path))
        sock_path.chmod(0o777)
        env = {
            "NOTIFY_SOCKET": "/run/kiosk-notify-test", "WATCHDOG_USEC": "3000000",
            "KIOSK_DATA_DIR": "/var/lib/kiosk", "HOME": "/var/lib/kiosk",
            "QT_QPA_PLATFORM": "offscreen", "KIOSK_VOICE_ENGINE": "mock",
        }  # fmt: skip
        argv = _in_root_argv(
            root, "/opt/kiosk-terminal/venv/bin/kiosk", "run", "--config",
            "/etc/kiosk/kiosk.toml", user="kiosk", env=env,
        )  # fmt: skip
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            _messages(sock, process, {"READY=1"}, 120, log)
            # The pings go on after READY (the first one may come before it).
            assert "WATCHDOG=1" in _messages(sock, process, {"WATCHDOG=1"}, 10, log)
            # SIGTERM to the terminal, as systemd sends it to the unit's main process.
            (terminal,) = _processes_in(root, "kiosk run")
            os.kill(terminal, signal.SIGTERM)
            assert "STOPPING=1" in _messages(sock, process, {"STOPPING=1"}, 30, log)
            assert process.wait(timeout=30) == 0, log.read_text(errors="replace")
        finally:
            if process.poll() is None:
                for pid in _processes_in(root, ""):
                    os.kill(pid, signal.SIGKILL)
                process.wait(timeout=30)
            sock_path.unlink(missing_ok=True)
    assert "Traceback" not in log.read_text(errors="replace")


def _messages(
    sock: socket.socket, process: subprocess.Popen[bytes], until: set[str], seconds: float,
    log: Path,
) -> list[str]:  # fmt: skip
    got: list[str] = []
    deadline = time.monotonic() + seconds
    sock.settimeout(0.5)
    while not until <= set(got):
        if time.monotonic() > deadline:
            pytest.fail(f"only {got} within {seconds} s:\n{log.read_text(errors='replace')}")
        try:
            got += sock.recv(4096).decode().splitlines()
        except TimeoutError:
            if process.poll() is not None:
                output = log.read_text(errors="replace")[-3000:]
                pytest.fail(f"kiosk run exited {process.returncode} after {got}:\n{output}")
    return got


def _wait_for_line(process: subprocess.Popen[bytes], start: str, seconds: float) -> str:
    """The first line *process* prints that begins with *start*, or all it printed when it
    ended or took too long."""
    assert process.stdout is not None
    # Read the pipe's descriptor, not the buffered file: readline() may pull two lines into
    # its buffer at once, and select() would then wait on the descriptor for a line already
    # read (the "listening on" line printed right after uvicorn's own was missed that way).
    fd = process.stdout.fileno()
    seen: list[str] = []
    pending = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 65536)
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            line = raw.decode(errors="replace") + "\n"
            if line.startswith(start):
                return line
            seen.append(line)
        if not chunk:
            break  # it ended
    return "".join(seen) + pending.decode(errors="replace") or f"nothing within {seconds} s"


def _processes_in(root: Path, command: str) -> list[int]:
    """The processes running in *root* whose command line holds *command*."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/root") != str(root):
                continue
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if command in cmdline and "runuser" not in cmdline:
            found.append(int(pid))
    return found


# --- the platform -------------------------------------------------------------------------------


def test_platform_files_owners_modes_and_user(root: Path) -> None:
    assert _owner(root, "/etc/kiosk-central") == ("root", "root", 0o755)
    assert _owner(root, "/etc/kiosk-central/central.env") == ("root", "kiosk-central", 0o640)
    assert _owner(root, "/etc/kiosk-central/tls") == ("root", "kiosk-central", 0o750)
    assert _owner(root, "/var/lib/kiosk-central") == ("kiosk-central", "kiosk-central", 0o750)
    assert _owner(root, "/usr/sbin/kiosk-central-setup-db") == ("root", "root", 0o755)
    passwd = _ids(root, "passwd")["kiosk-central"]
    assert int(passwd[2]) < 1000 and passwd[6] == "/usr/sbin/nologin"
    groups = {n for n, fields in _ids(root, "group").items() if "kiosk-central" in fields[3]}
    assert groups == set()
    assert writable_by(root, "kiosk-central", "/etc/kiosk-central") == []
    assert (root / "usr/lib/postgresql").is_dir(), "PostgreSQL came with the platform"


def test_kiosk_central_help_runs_as_kiosk_central(root: Path) -> None:
    result = in_root(root, "kiosk-central", "--help", user="kiosk-central")
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout and "kiosk" in result.stdout


def test_the_installed_terminal_syncs_to_the_installed_platform_over_tls(root: Path) -> None:
    """README "Deploying" in the root: Debian's PostgreSQL, kiosk-central-setup-db, the
    platform's certificate in /etc/kiosk-central/tls, serve as kiosk-central with the service's
    settings (PostgreSQL by peer authentication), a terminal registered and pointed at it with
    the fleet's CA in /etc/kiosk; a transaction recorded as kiosk reaches the platform."""
    import trustme

    (cluster,) = (root / "etc/postgresql").glob("*/main")
    version = cluster.parent.name
    assert in_root(root, "pg_ctlcluster", version, "main", "start").returncode == 0
    serve: subprocess.Popen[bytes] | None = None
    try:
        setup = in_root(root, "kiosk-central-setup-db")
        assert setup.returncode == 0, setup.stderr
        assert "database kiosk_central owned by kiosk-central" in setup.stdout

        ca = trustme.CA()
        tls = root / "etc/kiosk-central/tls"
        leaf = ca.issue_cert("localhost")
        leaf.cert_chain_pems[0].write_to_path(str(tls / "platform.pem"))
        for pem in leaf.cert_chain_pems[1:]:
            pem.write_to_path(str(tls / "platform.pem"), append=True)
        leaf.private_key_pem.write_to_path(str(tls / "platform.key"))
        group = int(_ids(root, "group")["kiosk-central"][2])
        for name in ("platform.pem", "platform.key"):
            os.chown(tls / name, 0, group)
            (tls / name).chmod(0o640)
        ca.cert_pem.write_to_path(str(root / "etc/kiosk/platform-ca.pem"))
        (root / "etc/kiosk/platform-ca.pem").chmod(0o644)

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        serve = subprocess.Popen(
            _in_root_argv(
                root, "kiosk-central", "serve", "--host", "127.0.0.1", "--port", str(port),
                "--tls-cert", "/etc/kiosk-central/tls/platform.pem",
                "--tls-key", "/etc/kiosk-central/tls/platform.key", user="kiosk-central",
            ),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        listening = f"listening on https://127.0.0.1:{port}"
        line = _wait_for_line(serve, listening, 60)
        assert line.startswith(listening), line

        added = in_root(root, "kiosk-central", "kiosk", "add", "kiosk-001", user="kiosk-central")
        assert added.returncode == 0, added.stderr
        token = added.stdout.strip()
        config = root / "etc/kiosk/kiosk.toml"
        config.write_text(
            config.read_text().replace(
                "embedded = false",
                f'url = "https://localhost:{port}"\nkiosk_id = "kiosk-001"\n'
                f'token = "{token}"\nca_file = "/etc/kiosk/platform-ca.pem"\nembedded = false',
            )
        )
        toml = ("--config", "/etc/kiosk/kiosk.toml")
        enqueued = in_root(
            root, "kiosk", "queue", "enqueue", "--service", "feedback", "--payload",
            '{"installed": true}', *toml, user="kiosk",
        )  # fmt: skip
        assert enqueued.returncode == 0, enqueued.stderr
        uuid = enqueued.stdout.strip()
        synced = in_root(root, "kiosk", "queue", "sync", "--once", *toml, user="kiosk")
        assert synced.returncode == 0, synced.stdout + synced.stderr
        exported = in_root(
            root, "kiosk-central", "export", "--kiosk", "kiosk-001", user="kiosk-central"
        )
        assert exported.returncode == 0, exported.stderr
        assert uuid in exported.stdout and '"installed": true' in exported.stdout.replace(
            '"installed":true', '"installed": true'
        )
    finally:
        if serve is not None:
            for pid in _processes_in(root, "kiosk-central serve"):
                os.kill(pid, signal.SIGTERM)
            serve.wait(timeout=30)
            serve.stdout and serve.stdout.close()
        in_root(root, "pg_ctlcluster", version, "main", "stop")


# --- both ------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_the_units_verify_in_the_installed_root(root: Path) -> None:
    """systemd-analyze verify against the root: the commands the units run exist there, and
    every setting is one systemd knows (a warning fails too)."""
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={root}", *UNITS],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@pytest.fixture(autouse=True, scope="module")
def _no_processes_left(root: Path) -> Iterator[None]:
    yield
    left = _processes_in(root, "")
    assert not left, f"processes left in {root}: {left}"
