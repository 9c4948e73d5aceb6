"""``kiosk-central loadtest`` against a real ``kiosk-central serve``: it registers its fleet,
drives both phases, reports what the platform answered, and what it reports was stored. The
figures themselves are the bench's (tests/benches/bench_platform_load.py), not asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from central.store import CentralStore
from tests.platform_process import start_server, stop_server


def loadtest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "central", "loadtest", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[str, str]]:
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    CentralStore.open(db_url).close()
    proc = start_server(db_url, log=tmp_path / "central.log")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        yield line.removeprefix("listening on "), db_url
    finally:
        stop_server(proc)


def test_both_phases_run_and_what_they_count_is_on_the_platform(
    platform: tuple[str, str], tmp_path: Path
) -> None:
    url, db_url = platform
    tokens = tmp_path / "tokens.json"
    res = loadtest(
        "--url", url, "--db", db_url, "--kiosks", "20", "--save-tokens", str(tokens),
        "--fleet-seconds", "2", "--fleet-interval", "0.2:0.4", "--saturation-seconds", "2",
        "--concurrency", "2", "--batch-items", "5", "--heartbeats-per-batch", "1", "--json",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    fleet, saturation = (json.loads(line) for line in res.stdout.splitlines())
    for phase in (fleet, saturation):
        assert phase["not_200"] == {} and phase["errors"] == {}, phase
        assert phase["heartbeats_per_s"] > 0 and phase["transactions_per_s"] > 0, phase
        assert phase["heartbeat_p50_ms"] <= phase["heartbeat_p99_ms"]
    assert fleet["terminals"] == 20 and saturation["terminals"] == 2

    store = CentralStore.open(db_url)
    try:
        stored = store.count_transactions()
        assert store.heartbeat("loadtest-00020") is not None  # every terminal took part
    finally:
        store.close()
    counted = sum(p["transactions_per_s"] * p["seconds"] for p in (fleet, saturation))
    assert stored >= counted * 0.95  # what it counted as accepted is there (rates are rounded)
    assert oct(tokens.stat().st_mode & 0o777) == "0o600"

    again = loadtest("--url", url, "--tokens", str(tokens), "--kiosks", "20",
                     "--fleet-seconds", "0", "--saturation-seconds", "1")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].split()[:3] == ["phase", "terminals", "hb/s"]
    assert again.stdout.splitlines()[1].startswith("saturation")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kiosks", "5"], "give the fleet's tokens with --tokens FILE, or --db URL"),
        (["--db", "sqlite:///x.db", "--fleet-interval", "60:30"], "0 < MIN <= MAX"),
    ],
)
def test_usage_mistakes_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    res = loadtest("--url", "http://127.0.0.1:9", *args)
    assert res.returncode == 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_a_platform_out_of_reach_is_one_line_and_exit_1(tmp_path: Path) -> None:
    from tests.central.conftest import free_port

    res = loadtest("--url", f"http://127.0.0.1:{free_port()}", "--kiosks", "3",
                   "--db", f"sqlite:///{tmp_path / 'c.db'}")  # fmt: skip
    assert res.returncode == 1
    assert res.stderr.startswith("kiosk-central: loadtest: cannot reach the platform at")
    assert len(res.stderr.strip().splitlines()) == 1
