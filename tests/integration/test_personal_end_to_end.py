"""Personal data end to end, with the real commands and a real platform process, on SQLite and
PostgreSQL: the back office makes its key, the operators sign it into the fleet's
configuration, a terminal records with ``kiosk queue enqueue --personal`` and syncs; afterwards
no personal value is in the platform's database files nor in anything the terminal's token
reads, and only the back office opens them, audited.

A terminal without the key (before the configuration reaches it) keeps its personal records
and says so; they go, sealed, once the key arrives."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from central.store import CentralStore
from central.tables import metadata, personal_sealed
from contracts.wire import BatchItem
from tests.central.conftest import postgres_url  # noqa: F401  (the PostgreSQL cluster fixture)
from tests.central.test_personal_sealed import PUBLIC, clear_values_in, database_bytes, feedback
from tests.platform_process import Platform, central, platform_process, stop_server
from tests.waiting import wait_for

KIOSK = "hpl-01"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central' / 'central.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def platform(backend: str, tmp_path: Path) -> Iterator[Platform]:
    (tmp_path / "central").mkdir()
    with platform_process(tmp_path / "central", KIOSK, db_url=backend) as running:
        yield running


def kiosk(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    res = subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res.stdout


def resident() -> dict[str, str]:
    tag = secrets.token_hex(4)
    return {"name": f"张秀英{tag}", "phone": f"139{secrets.randbelow(10**8):08d}",
            "text": f"窗口太少{tag}"}  # fmt: skip


def terminal_config(tmp_path: Path, platform: Platform, trust: Path) -> Path:
    toml = tmp_path / "kiosk.toml"
    toml.write_text(
        f'data_dir = "{tmp_path / "terminal"}"\n'
        "[central]\n"
        f'url = "{platform.url}"\nkiosk_id = "{KIOSK}"\ntoken = "{platform.token}"\n'
        f'config_trust = "{trust}"\ngroups = ["hepingli"]\n'
    )
    return toml


def enqueue(toml: Path, fields: dict[str, str], probe: str) -> str:
    payload = json.dumps({"language": "zh_CN", "has_text": True, "has_phone": True, "probe": probe})
    return kiosk("queue", "enqueue", "--config", str(toml), "--service", "feedback",
                 "--payload", payload, "--personal", json.dumps(fields)).strip()  # fmt: skip


def status(toml: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(kiosk("queue", "status", "--json", "--config", str(toml)))
    return found


def test_personal_fields_cross_sealed_and_open_only_in_the_back_office(
    platform: Platform, backend: str, tmp_path: Path
) -> None:
    # The back office's key pair; the public half goes into the fleet's configuration.
    back_office = tmp_path / "back-office"
    printed = central("personal", "keygen", "--out", str(back_office), "--name", "personal")
    personal_key = json.loads(printed.splitlines()[-1])["personal_key"]
    operators, trust = tmp_path / "operators", tmp_path / "config-trust"
    central("config", "keygen", "--out", str(operators), "--name", "alice")
    trust.mkdir()
    (trust / "alice.pub").write_text((operators / "alice.pub").read_text())
    (trust / "threshold").write_text("1\n")
    toml = terminal_config(tmp_path, platform, trust)

    # Recorded before the key reaches the terminal: it waits, and says so.
    early_fields = resident()
    early = enqueue(toml, early_fields, "probe-early")
    synced = kiosk("queue", "sync", "--once", "--config", str(toml))
    assert "1 with personal fields" in synced and "never sent in the clear" in synced
    before = status(toml)
    assert before["personal_key"] is None and before["awaiting_personal_key"] == 1
    assert early not in {line["uuid"] for line in platform.export()}

    # The operators sign the key into the configuration; the terminal applies it.
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"schema_version": 2, "personal_key": personal_key}))
    bundle = tmp_path / "v1.json"
    central("config", "draft", "--version", "1", "--payload", str(payload), "--group",
            "hepingli", "--out", str(bundle))  # fmt: skip
    central("config", "sign", str(bundle), "--key", str(operators / "alice.key"), "--yes",
            "--db", backend)  # fmt: skip
    kiosk("config", "apply", str(bundle), "--config", str(toml))

    later_fields = resident()
    later = enqueue(toml, later_fields, "probe-later")
    synced = kiosk("queue", "sync", "--once", "--config", str(toml))
    assert synced.startswith("sent 2, acknowledged 2, dead 0, 0 waiting"), synced
    after = status(toml)
    assert after["personal_key"] == personal_key["key_id"] and after["awaiting_personal_key"] == 0

    everything = {**{f"early-{k}": v for k, v in early_fields.items()},
                  **{f"later-{k}": v for k, v in later_fields.items()}}  # fmt: skip
    # The platform's database files: what was stored is there (the probes), no personal value.
    raw = database_bytes(backend)
    assert b"probe-early" in raw and b"probe-later" in raw
    assert clear_values_in(backend, everything) == []

    # Whatever the terminal's token reads: the transactions, marked sealed, nothing personal.
    request = urllib.request.Request(
        f"{platform.url}/v1/kiosks/{KIOSK}/transactions",
        headers={"Authorization": f"Bearer {platform.token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read().decode()
    page = json.loads(text)["transactions"]
    assert [(t["uuid"], t["personal"]) for t in page] == [(early, "sealed"), (later, "sealed")]
    assert not any(value in text for value in everything.values())
    exported = central("export", "--kiosk", KIOSK, "--db", backend)
    assert not any(value in exported for value in everything.values())

    # The back office opens them with the private key; each opening is audited.
    key_file = str(back_office / "personal.key")
    why = ["--why", "complaint follow-up", "--by", "alice", "--db", backend]
    opened = json.loads(central("personal", "open", early, "--key", key_file, *why))
    assert opened["personal"] == early_fields and opened["key_id"] == personal_key["key_id"]
    full = central("export", "--kiosk", KIOSK, "--db", backend, "--personal-key", key_file,
                   "--why", "monthly report", "--by", "bob")  # fmt: skip
    assert [json.loads(line)["personal"] for line in full.splitlines()] == [
        early_fields, later_fields,
    ]  # fmt: skip
    audit = [json.loads(line) for line in
             central("personal", "audit", "--json", "--db", backend).splitlines()]  # fmt: skip
    assert [(a["uuid"], a["opened_by"], a["why"], a["outcome"]) for a in audit] == [
        (later, "bob", "monthly report", "opened"),
        (early, "bob", "monthly report", "opened"),
        (early, "alice", "complaint follow-up", "opened"),
    ]


def test_serve_purges_personal_parts_past_retention_on_its_schedule(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    store = CentralStore.open(db_url)
    try:
        store.add_kiosk(KIOSK)
        items = [BatchItem.model_validate(feedback(n, resident())) for n in (1, 2)]
        store.ingest(KIOSK, items)
        with store.engine.begin() as conn:
            conn.execute(
                personal_sealed.update()
                .where(personal_sealed.c.uuid == items[0].uuid)
                .values(received_at="2000-01-01T00:00:00+00:00")
            )
        assert items[0].sealed is not None and items[0].sealed.key_id == PUBLIC.key_id
        server = subprocess.Popen(
            [sys.executable, "-m", "central", "serve", "--db", db_url, "--port", "0",
             "--personal-retention-days", "30"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            assert server.stdout.readline().startswith("listening on")
            wait_for(lambda: [t.personal for t in store.transactions(KIOSK)] == [
                "purged", "sealed",
            ], timeout=20)  # fmt: skip
        finally:
            stop_server(server)
    finally:
        store.close()
