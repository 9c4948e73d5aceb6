"""The ``kiosk`` command as technicians and rigs use it: a real process, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def kiosk(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env if env is not None else os.environ.copy(),
        check=False,
    )


def test_help_lists_the_commands() -> None:
    out = kiosk("--help")
    assert out.returncode == 0
    for command in ("run", "devices", "queue", "gallery"):
        assert f"  {command}" in out.stdout


@pytest.mark.parametrize(
    "args",
    [("--bogus",), ("run", "--nope"), ("queue", "frobnicate"), ("devices", "--wait", "soon")],
)
def test_usage_errors_are_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    out = kiosk(*args)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("kiosk: ")
    assert "Traceback" not in out.stderr


def test_bad_configuration_is_one_line_and_exit_1(tmp_path: Path) -> None:
    cfg = tmp_path / "k.toml"
    cfg.write_text("[timeouts]\nconfirm = 1\n", encoding="utf-8")
    out = kiosk("run", "--config", str(cfg), "--data-dir", str(tmp_path))
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "timeouts.confirm" in out.stderr


def test_unknown_driver_is_one_line_and_exit_1(tmp_path: Path) -> None:
    cfg = tmp_path / "k.toml"
    cfg.write_text('[devices.receipt_printer]\ndriver = "laser"\n', encoding="utf-8")
    out = kiosk("devices", "--config", str(cfg), "--data-dir", str(tmp_path))
    assert out.returncode == 1
    assert "unknown receipt_printer driver 'laser'" in out.stderr
    assert out.stderr.count("\n") == 1


def test_run_without_a_display_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    out = kiosk("run", "--data-dir", str(tmp_path), env=env)
    assert out.returncode == 1
    assert "no display found" in out.stderr and out.stderr.count("\n") == 1


def test_devices_json_reports_the_simulators(tmp_path: Path) -> None:
    out = kiosk("devices", "--json", "--data-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    rows = {r["kind"]: r for r in map(json.loads, out.stdout.splitlines())}
    # The simulated smart card reader needs pcscd (with vpcd): without it, it must say so.
    smart = rows.pop("smart_card_reader")
    assert smart["driver"] == "sim"
    assert smart["state"] == "ready" or smart["fault"]["code"] in (
        "service_not_running",
        "reader_missing",
    )
    assert {k: (r["driver"], r["state"]) for k, r in rows.items()} == {
        "id_card_reader": ("sim", "ready"),
        "receipt_printer": ("sim", "ready"),
        "camera": ("sim", "ready"),
    }


def test_queue_status_on_a_fresh_terminal(tmp_path: Path) -> None:
    out = kiosk("queue", "status", "--json", "--data-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["total"] == 0 and status["by_state"]["pending"] == 0


def test_queue_status_on_a_corrupt_database(tmp_path: Path) -> None:
    (tmp_path / "kiosk.db").write_bytes(b"garbage" * 1000)
    out = kiosk("queue", "status", "--data-dir", str(tmp_path))
    assert out.returncode == 1
    assert "kiosk.db" in out.stderr and out.stderr.count("\n") == 1


def test_gallery_renders_every_screen_in_both_languages(tmp_path: Path) -> None:
    from PIL import Image

    out = kiosk("gallery", "--out", str(tmp_path / "g"), timeout=180)
    assert out.returncode == 0, out.stderr
    files = sorted((tmp_path / "g").rglob("*.png"))
    from kiosk.gallery import GALLERY_THEMES, gallery_views

    assert {f.name.split(".")[1] for f in files} == set(GALLERY_THEMES)
    assert {f.name.split(".")[2] for f in files} == {"zh_CN", "en"}
    assert len(files) == 2 * len(GALLERY_THEMES) * len(gallery_views("zh_CN")) > 100
    for f in files:
        with Image.open(f) as im:
            assert im.size == (1920, 1080), f


def test_the_locked_down_terminal_stops_on_sigterm(tmp_path: Path) -> None:
    """Full screen (not --windowed) the window refuses to close; systemd's SIGTERM must still
    stop the terminal cleanly (Qt 6's quit() asks windows to close first)."""
    import signal
    import time

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    log = tmp_path / "data" / "logs" / "kiosk.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "run", "--simulate", "--data-dir", str(tmp_path / "data")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (log.exists() and "kiosk running" in log.read_text()):
            assert proc.poll() is None, "the terminal died on its own"
            assert time.monotonic() < deadline, "the terminal did not come up"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
