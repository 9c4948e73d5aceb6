"""The kiosk-central command line: serve, kiosk add, export; one-line errors and exit codes."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from central.cli import main
from tests.central.helpers import item

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "central", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def read_line(stream: Any, timeout: float) -> str:
    """One line from a child's pipe, or fail after *timeout* seconds instead of hanging."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"no line within {timeout} s")
    return str(stream.readline()).strip()


@contextmanager
def serving(db_url: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    server = subprocess.Popen(
        [sys.executable, "-m", "central", "serve", "--db", db_url, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        line = read_line(server.stdout, timeout=30)
        assert line.startswith("listening on http://127.0.0.1:"), line
        yield server, line.removeprefix("listening on ")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
            for stream in (server.stdout, server.stderr):
                if stream is not None:
                    stream.close()


def http(
    method: str, url: str, body: Any = None, token: str | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_add_a_kiosk_serve_deliver_and_export(tmp_path: Path) -> None:
    """The operator's whole path, each command in its own process as an operator runs it."""
    db = f"sqlite:///{tmp_path / 'central.db'}"
    added = run_cli("kiosk", "add", "kiosk-001", "--group", "pilot", "--db", db)
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert len(token) >= 40 and "\n" not in token

    again = run_cli("kiosk", "add", "kiosk-001", "--db", db)
    assert again.returncode == 1
    assert again.stderr.startswith("kiosk-central: ") and again.stderr.count("\n") == 1

    with serving(db) as (server, base):
        assert http("GET", f"{base}/healthz") == (200, {"status": "ok", "db": "ok"})
        batch = {"items": [item(2), item(1, payload={"姓名": "张三"})]}
        status, reply = http("POST", f"{base}/v1/kiosks/kiosk-001/batches", batch, token)
        assert status == 200
        assert [r["status"] for r in reply["results"]] == ["accepted", "accepted"]
        status, reply = http("POST", f"{base}/v1/kiosks/kiosk-001/batches", batch, "wrong")
        assert (status, reply["error"]) == (401, "unauthorized")
        heartbeat = {"app_version": "0.1.0", "devices": [], "queue_depth": 0, "sent_at": "now"}
        status, reply = http("POST", f"{base}/v1/kiosks/kiosk-001/heartbeat", heartbeat, token)
        assert status == 200 and "server_time" in reply
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
        assert server.stderr is not None
        assert "Traceback" not in server.stderr.read()

    exported = run_cli("export", "--kiosk", "kiosk-001", env={"KIOSK_CENTRAL_DB": db})
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [line["seq"] for line in lines] == [1, 2]
    assert lines[0]["payload"] == {"姓名": "张三"}
    assert {"uuid", "seq", "service", "payload", "received_at"} <= set(lines[0])


def test_kiosk_add_and_export_on_each_backend(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kiosk", "add", "kiosk-009", "--db", db_url]) == 0
    token = capsys.readouterr().out.strip()
    assert main(["kiosk", "add", "kiosk-009", "--rotate", "--db", db_url]) == 0
    assert capsys.readouterr().out.strip() != token
    assert main(["export", "--kiosk", "kiosk-009", "--db", db_url]) == 0
    assert capsys.readouterr().out == ""


def test_the_default_database_is_in_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KIOSK_CENTRAL_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert main(["kiosk", "add", "kiosk-001"]) == 0
    assert (tmp_path / "data" / "kiosk-central" / "central.db").exists()
    capsys.readouterr()


def occupied_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        yield int(taken.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["export", "--kiosk", "k", "--db", "nonsense"], 1, "not a database URL"),
        (["export", "--kiosk", "k", "--db", "mysql://u@h/d"], 1, "unsupported database"),
        (
            ["kiosk", "add", "k", "--db", "postgresql://u:s3cret@127.0.0.1:1/d"],
            1,
            "database unavailable",
        ),
        (["export", "--kiosk", "ghost"], 1, "no kiosk 'ghost'"),
        (["kiosk", "add", "k", "--rotate"], 1, "no kiosk 'k'"),
        (["kiosk", "add", "bad id!"], 2, "Invalid value for ID"),
        (["serve", "--port", "70000"], 2, "--port"),
        (["serve", "--host", "192.0.2.1"], 1, "cannot listen"),  # TEST-NET: not ours to bind
        (["frobnicate"], 2, "No such command"),
        (["export"], 2, "--kiosk"),
    ],
)
def test_errors_are_one_line_with_the_right_exit_code(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    monkeypatch.setenv("KIOSK_CENTRAL_DB", f"sqlite:///{tmp_path / 'central.db'}")
    assert main(args) == code
    captured = capsys.readouterr()
    assert captured.err.startswith("kiosk-central: ")
    assert captured.err.count("\n") == 1
    assert message in captured.err
    assert "s3cret" not in captured.err
    assert "Traceback" not in captured.err


def test_a_port_in_use_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for port in occupied_port():
        started = time.monotonic()
        args = ["serve", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'c.db'}"]
        assert main(args) == 1
        assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert err.startswith("kiosk-central: cannot listen on 127.0.0.1:")
    assert err.count("\n") == 1


def test_export_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    from central.store import CentralStore
    from contracts.wire import BatchItem

    store = CentralStore.open(db)
    try:
        store.add_kiosk("kiosk-001")
        store.ingest("kiosk-001", [BatchItem(**item(n)) for n in range(1, 3001)])
    finally:
        store.close()
    pipeline = subprocess.run(
        f"{sys.executable} -m central export --kiosk kiosk-001 --db {db} | head -n 1",
        shell=True,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert pipeline.stdout.count("\n") == 1
    assert "Traceback" not in pipeline.stderr and "Error" not in pipeline.stderr
