"""Fixtures for kiosk-central: a store on each backend, an API client, registered kiosks.

PostgreSQL runs as a throwaway cluster for the session (initdb + pg_ctl in a temporary directory,
Unix socket only, no TCP). It runs as the ``postgres`` user when the tests run as root, because the
server refuses to run as root. Without the server binaries the PostgreSQL cases are skipped.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from central.api import create_app
from central.store import CentralStore
from central.tables import metadata
from tests.central.helpers import Kiosk

BACKENDS = ["sqlite", "postgresql"]


def postgres_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's versioned layout."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        )
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
    # Not under pytest's tmp_path: its parents are private to root, and postgres must reach it.
    base = Path(tempfile.mkdtemp(prefix="kiosk-central-pg-"))
    prefix: list[str] = []
    if as_root:
        shutil.chown(base, user="postgres", group="postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", free_port()

    def run(*args: str) -> None:
        subprocess.run(
            [*prefix, *args], check=True, capture_output=True, text=True, timeout=60, cwd=base
        )

    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    options = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off"
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-w"]
    try:
        run(*initdb, "-E", "UTF8", "--no-sync")
        run(*pg_ctl, "-l", str(base / "server.log"), "-o", options, "start")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        subprocess.run(
            [*prefix, *pg_ctl, "-m", "immediate", "stop"], capture_output=True, check=False
        )
        shutil.rmtree(base, ignore_errors=True)
        detail = exc.stderr if isinstance(exc.stderr, str) and exc.stderr else str(exc)
        pytest.fail(f"could not start PostgreSQL: {detail}")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={base}&port={port}"
    finally:
        run(*pg_ctl, "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[CentralStore]:
    opened = CentralStore.open(db_url)
    yield opened
    opened.close()


@pytest.fixture
def kiosk(store: CentralStore) -> Kiosk:
    return Kiosk("kiosk-001", store.add_kiosk("kiosk-001", "pilot"))


@pytest.fixture
def other_kiosk(store: CentralStore) -> Kiosk:
    return Kiosk("kiosk-002", store.add_kiosk("kiosk-002", "pilot"))


@pytest.fixture
def client(store: CentralStore) -> Iterator[TestClient]:
    with TestClient(create_app(store, max_body_bytes=256 * 1024, max_items=50)) as test_client:
        yield test_client
