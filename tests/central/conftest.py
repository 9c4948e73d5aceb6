"""Fixtures for kiosk-central: a store on each backend, an API client, registered kiosks.

PostgreSQL runs as a throwaway cluster for the session (initdb + pg_ctl in a temporary directory,
Unix socket only, no TCP). It runs as the ``postgres`` user when the tests run as root, because the
server refuses to run as root. Without the server binaries the PostgreSQL cases are skipped.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from central.api import create_app
from central.store import CentralStore
from central.tables import metadata
from tests.central.helpers import Kiosk
from tests.postgres_cluster import ClusterStartError, ClusterUnavailableError, postgres_cluster

BACKENDS = ["sqlite", "postgresql"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        with postgres_cluster(free_port()) as url:
            yield url
    except ClusterUnavailableError as exc:
        pytest.skip(str(exc))
    except ClusterStartError as exc:
        pytest.fail(str(exc))


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
