"""Scale-out (issue 15, item 5): ``kiosk-central serve --workers N`` on PostgreSQL, as a real
process. Each claim is checked on every worker: a connection is traced to the worker process
that accepted it (the socket's inode in /proc), so "refused by every worker" means a request
answered by each of them was refused, not that some request was."""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

from central.store import CentralStore
from tests.platform_process import central, stop_server

KIOSK = "kiosk-scale-01"
HEARTBEAT = json.dumps(
    {"app_version": "1.0", "devices": [], "queue_depth": 0, "sent_at": "2026-12-05T10:00"}
)
WORKERS = 2
MAX_CONNECTIONS = 200  # tried before giving up on reaching every worker


@dataclass
class Served:
    proc: subprocess.Popen[str]
    url: str
    db_url: str
    log: Path
    context: ssl.SSLContext | None
    held: list[http.client.HTTPConnection] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.url.rpartition(":")[2])

    def workers(self) -> set[int]:
        """The worker processes: the children that hold the listening socket's accepts."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return {int(pid) for pid in children.split() if _serves(int(pid))}

    def connect(self) -> http.client.HTTPConnection:
        if self.context is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        else:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", self.port, timeout=20, context=self.context
            )
        conn.connect()
        self.held.append(conn)
        return conn

    def one_per_worker(self) -> dict[int, http.client.HTTPConnection]:
        """A kept-alive connection accepted by each worker (a request has gone over each, so
        the worker has accepted it)."""
        found: dict[int, http.client.HTTPConnection] = {}
        workers = self.workers()
        assert len(workers) == WORKERS, workers
        for _ in range(MAX_CONNECTIONS):
            conn = self.connect()
            assert request(conn, "GET", "/healthz")[0] == 200
            found.setdefault(self.worker_of(conn), conn)
            if set(found) == workers:
                return found
        pytest.fail(f"{MAX_CONNECTIONS} connections all went to workers {sorted(found)}")

    def worker_of(self, conn: http.client.HTTPConnection) -> int:
        assert conn.sock is not None
        client_port = conn.sock.getsockname()[1]
        inode = _server_side_inode(self.port, client_port)
        for pid in self.workers():
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        raise AssertionError(f"no worker holds the connection from port {client_port}")


def _serves(pid: int) -> bool:
    # uvicorn's workers are multiprocessing children; its resource tracker is one too.
    return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()


def _server_side_inode(server_port: int, client_port: int) -> str:
    """The inode of the accepted socket: local port = the server's, remote = the client's."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if (
                int(local.rpartition(":")[2], 16) == server_port
                and int(remote.rpartition(":")[2], 16) == client_port
            ):
                return inode
    raise AssertionError(f"no server-side socket for client port {client_port}")


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: str | bytes | None = None,
    token: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=body, headers=headers)
    reply = conn.getresponse()
    return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()


def heartbeat(
    conn: http.client.HTTPConnection, token: str, kiosk: str = KIOSK
) -> tuple[int, dict[str, str], bytes]:
    return request(conn, "POST", f"/v1/kiosks/{kiosk}/heartbeat", HEARTBEAT, token)


@contextmanager
def serving(
    folder: Path, db_url: str, *args: str, context: ssl.SSLContext | None = None
) -> Iterator[Served]:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "central.log"
    with log.open("a") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "central", "serve", "--db", db_url, "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=sink, text=True,
        )  # fmt: skip
    served = Served(proc, "", db_url, log, context)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on "), log.read_text()[-2000:]
        served.url = line.removeprefix("listening on ")
        yield served
    finally:
        for conn in served.held:
            conn.close()
        stop_server(proc)


@pytest.fixture
def pki(tmp_path: Path) -> tuple[Path, Path, ssl.SSLContext]:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "platform.pem", tmp_path / "platform.key"
    for i, pem in enumerate(leaf.cert_chain_pems):
        pem.write_to_path(str(cert), append=i > 0)
    leaf.private_key_pem.write_to_path(str(key))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return cert, key, context


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    """The session's PostgreSQL cluster, emptied."""
    from sqlalchemy import create_engine

    from central.tables import metadata

    engine = create_engine(postgres_url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()
    return postgres_url


def test_over_tls_a_revoked_token_is_refused_by_every_worker_at_once(
    pg_url: str, pki: tuple[Path, Path, ssl.SSLContext], tmp_path: Path
) -> None:
    """Given two workers serving https on PostgreSQL and a connection held open to each, when
    the terminal's token is revoked, then the very next request on each is 401; after a
    rotation the new token works on each and the old one does not."""
    cert, key, context = pki
    token = central("kiosk", "add", KIOSK, "--db", pg_url).strip()
    args = ["--workers", str(WORKERS), "--tls-cert", str(cert), "--tls-key", str(key)]
    with serving(tmp_path, pg_url, *args, context=context) as served:
        assert served.url.startswith("https://")
        connections = served.one_per_worker()
        for conn in connections.values():
            assert heartbeat(conn, token)[0] == 200

        store = CentralStore.open(pg_url)  # what `kiosk revoke` does, without its start-up time
        try:
            store.revoke_kiosk(KIOSK)
            for pid, conn in connections.items():
                status, headers, _ = heartbeat(conn, token)
                assert status == 401
                assert headers["www-authenticate"] == "Bearer"
                assert served.worker_of(conn) == pid  # answered by that worker, still
            fresh = store.add_kiosk(KIOSK, rotate=True)
        finally:
            store.close()
        for pid, conn in connections.items():
            assert heartbeat(conn, fresh)[0] == 200
            assert heartbeat(conn, token)[0] == 401
            assert served.worker_of(conn) == pid


def test_every_worker_refuses_a_body_over_the_limit_and_a_token_over_its_rate(
    pg_url: str, tmp_path: Path
) -> None:
    """--max-body-bytes and --rate-limit reach every worker: 413 from each; and a token gets
    at most the burst from each worker (the limit is per worker), so of 2 x burst + 1 requests
    at least one is 429, with Retry-After and the API's error body."""
    token = central("kiosk", "add", KIOSK, "--db", pg_url).strip()
    burst = 4
    args = ["--workers", str(WORKERS), "--max-body-bytes", "2048",
            "--rate-limit", "0.001", "--rate-burst", str(burst)]  # fmt: skip
    with serving(tmp_path, pg_url, *args) as served:
        connections = served.one_per_worker()
        big = json.dumps({"items": [], "padding": "x" * 4096})
        for pid, conn in connections.items():
            status, _, body = request(conn, "POST", f"/v1/kiosks/{KIOSK}/batches", big, token)
            assert status == 413, pid
            assert json.loads(body)["error"] == "body_too_large"

        answers = []
        for _ in range(WORKERS * burst + 1):
            conn = served.connect()
            answers.append(heartbeat(conn, token))
            conn.close()
        limited = [a for a in answers if a[0] == 429]
        assert limited, [a[0] for a in answers]
        assert {a[0] for a in answers} <= {200, 429}
        assert sum(a[0] == 200 for a in answers) <= WORKERS * burst
        _, headers, body = limited[0]
        assert int(headers["retry-after"]) >= 1
        assert json.loads(body)["error"] == "too_many_requests"


def test_sigterm_stops_every_worker_and_the_supervisor_exits_0(pg_url: str, tmp_path: Path) -> None:
    central("kiosk", "add", KIOSK, "--db", pg_url)
    with serving(tmp_path, pg_url, "--workers", str(WORKERS)) as served:
        workers = served.workers()
        assert len(workers) == WORKERS
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(timeout=30) == 0
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists() or _zombie(pid), pid
    log = served.log.read_text()
    assert "Traceback" not in log
    assert log.count("Application shutdown complete") == WORKERS  # each closed its pool


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_on_sqlite_workers_start_with_a_warning(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    token = central("kiosk", "add", KIOSK, "--db", db_url).strip()
    with serving(tmp_path, db_url, "--workers", str(WORKERS)) as served:
        for conn in served.one_per_worker().values():
            assert heartbeat(conn, token)[0] == 200
    assert "writes take turns" in served.log.read_text()


def test_with_workers_a_database_out_of_reach_is_one_line_and_exit_1() -> None:
    port = _free_port()  # nothing listens there
    res = subprocess.run(
        [sys.executable, "-m", "central", "serve", "--workers", "2", "--port", "0", "--db",
         f"postgresql+psycopg://kiosk@127.0.0.1:{port}/central"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 1
    assert res.stderr.strip().startswith("kiosk-central: database unavailable:"), res.stderr
    assert "Traceback" not in res.stderr


def test_a_worker_that_cannot_open_its_store_exits_as_a_start_up_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """uvicorn's supervisor restarts a worker that dies, except one that exits with its
    start-up failure code: that is what a worker whose database refuses it must do, with the
    reason in one log line, or serve would start it again forever."""
    from uvicorn.config import STARTUP_FAILURE

    from central.database import PoolSize
    from central.server import WorkerApp

    worker = WorkerApp(
        f"postgresql+psycopg://kiosk@127.0.0.1:{_free_port()}/central", PoolSize(), 4096, None
    )
    handlers, level = logging.root.handlers[:], logging.root.level
    try:
        with pytest.raises(SystemExit) as stopped:
            worker()  # sets up its process's logging, as a spawned worker must
    finally:
        logging.root.handlers[:], logging.root.level = handlers, level
    assert stopped.value.code == STARTUP_FAILURE
    assert "worker cannot start: database unavailable" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
