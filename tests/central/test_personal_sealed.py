"""Personal data on the platform, on SQLite and PostgreSQL: stored only sealed and apart, never
readable with a terminal's token, opened by the back office with the private key and audited,
bound to its record, rotated, purged after retention; terminals from before sealing, and a
database from before schema 6."""

from __future__ import annotations

import json
import os
import secrets
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select

from central import backoffice
from central.backoffice import Keyring, Opener, PersonalError
from central.cli import main
from central.store import CentralStore
from central.tables import personal_openings, personal_sealed, schema_version, transactions
from contracts.canonical import canonical_text
from contracts.personal import PersonalKey, seal
from tests.central.helpers import Kiosk, item

BACK_OFFICE = X25519PrivateKey.generate()  # the private key: only the back office has it
PUBLIC = PersonalKey.of(BACK_OFFICE.public_key())  # what terminals seal to


def resident() -> dict[str, str]:
    """Personal fields no other test writes, so a search of the database files finds only
    what this test put there."""
    tag = secrets.token_hex(4)
    return {"text": f"排队太久了{tag}", "phone": f"139{secrets.randbelow(10**8):08d}"}


def feedback(n: int, fields: dict[str, str] | None, *, key: PersonalKey = PUBLIC) -> dict[str, Any]:
    """A feedback transaction as a terminal with sealing sends it."""
    body = item(n, service="feedback", payload={"has_text": True, "probe": f"probe-{n}"})
    if fields is not None:
        body["sealed"] = seal(key, fields, body["uuid"]).model_dump()
    return body


def post(client: TestClient, kiosk: Kiosk, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = client.post(f"/v1/kiosks/{kiosk.id}/batches", json={"items": items},
                           headers=kiosk.auth)  # fmt: skip
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def read_back(client: TestClient, kiosk: Kiosk) -> Any:
    response = client.get(f"/v1/kiosks/{kiosk.id}/transactions", headers=kiosk.auth)
    assert response.status_code == 200, response.text
    return response


def database_bytes(db_url: str) -> bytes:
    """Every byte of the platform's database on disk: the SQLite file with its WAL, or the whole
    PostgreSQL cluster's data directory (heap, WAL, everything) after a checkpoint."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
    from sqlalchemy import create_engine

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CHECKPOINT")
    finally:
        engine.dispose()
    host = db_url.split("host=")[1].split("&", maxsplit=1)[0]
    chunks = []
    for folder, _, files in os.walk(Path(host) / "data"):
        for name in files:
            try:
                chunks.append((Path(folder) / name).read_bytes())
            except OSError:  # a socket, or a file gone since the listing
                continue
    return b"".join(chunks)


def clear_values_in(db_url: str, fields: dict[str, str]) -> list[str]:
    raw = database_bytes(db_url)
    return [v for v in fields.values() if v.encode() in raw or v.encode("gb18030") in raw]


def opener(why: str = "feedback follow-up", by: str | None = "alice") -> Opener:
    return Opener.of(why, by)


# -- stored sealed, apart, and never read back with a terminal's token --------------------------


def test_only_the_sealed_part_is_stored_and_a_terminal_token_reads_no_personal_value(
    client: TestClient, kiosk: Kiosk, store: CentralStore, db_url: str
) -> None:
    fields = resident()
    sent = feedback(1, fields)
    assert [r["status"] for r in post(client, kiosk, [sent, feedback(2, None)])] == [
        "accepted",
        "accepted",
    ]
    page = read_back(client, kiosk)
    first, second = page.json()["transactions"]
    assert first["personal"] == "sealed" and first["payload"] == sent["payload"]
    assert second["personal"] is None
    assert not any(value in page.text for value in fields.values())
    with store.engine.connect() as conn:
        (row,) = conn.execute(select(personal_sealed)).all()
        stored = conn.execute(select(transactions.c.payload)).scalars().all()
    assert (row.uuid, row.key_id, row.sealed_by) == (sent["uuid"], PUBLIC.key_id, "terminal")
    assert all("personal" not in json.loads(payload) for payload in stored)
    # The search can see what is stored (the probe), and finds no personal value anywhere.
    assert b"probe-1" in database_bytes(db_url)
    assert clear_values_in(db_url, fields) == []


def test_a_resend_is_a_duplicate_and_a_different_seal_is_a_conflict(
    client: TestClient, kiosk: Kiosk
) -> None:
    fields = resident()
    sent = feedback(1, fields)
    post(client, kiosk, [sent])
    assert post(client, kiosk, [sent])[0]["status"] == "duplicate"
    resealed = feedback(1, fields)  # the same fields, a new ephemeral key: other bytes
    assert resealed["sealed"] != sent["sealed"]
    assert post(client, kiosk, [resealed])[0]["status"] == "conflict"


def test_a_sealed_part_that_is_not_one_is_refused(client: TestClient, kiosk: Kiosk) -> None:
    bad = feedback(1, None)
    bad["sealed"] = {"format": 1, "key_id": PUBLIC.key_id, "blob": "AAAA"}
    (result,) = post(client, kiosk, [bad])
    assert result["status"] == "rejected" and "too short" in result["reason"]


# -- the back office ----------------------------------------------------------------------------


def test_the_back_office_opens_with_the_key_and_every_opening_is_audited(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    fields = resident()
    sent = feedback(1, fields)
    post(client, kiosk, [sent])
    opened = backoffice.open_record(store, sent["uuid"], Keyring([BACK_OFFICE]), opener())
    assert (opened.kiosk_id, opened.fields) == (kiosk.id, fields)

    stranger = X25519PrivateKey.generate()
    with pytest.raises(PersonalError, match=f"sealed to key {PUBLIC.key_id}"):
        backoffice.open_record(store, sent["uuid"], Keyring([stranger]), opener(by="mallory"))
    with pytest.raises(PersonalError, match="say why"):
        Opener.of("   ")

    audit = backoffice.openings(store)
    assert [(a["opened_by"], a["outcome"][:6]) for a in audit] == [
        ("mallory", "failed"),
        ("alice", "opened"),
    ]
    newest = audit[0]
    assert (newest["kiosk_id"], newest["uuid"], newest["key_id"]) == (
        kiosk.id, sent["uuid"], PUBLIC.key_id,
    )  # fmt: skip
    assert newest["why"] == "feedback follow-up" and newest["via"] == "open"
    assert newest["os_user"] and datetime.fromisoformat(newest["opened_at"])
    assert not any(value in json.dumps(audit) for value in fields.values())


def test_a_sealed_part_moved_to_another_record_does_not_open(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    first, second = resident(), resident()
    one, two = feedback(1, first), feedback(2, second)
    # On the wire: the third item carries the first one's sealed part.
    three = feedback(3, None)
    three["sealed"] = one["sealed"]
    post(client, kiosk, [one, two, three])
    keys = Keyring([BACK_OFFICE])
    with pytest.raises(PersonalError, match="sealed for another record"):
        backoffice.open_record(store, three["uuid"], keys, opener())
    # In the database: the two rows' sealed bytes swapped.
    with store.engine.begin() as conn:
        blobs = dict(conn.execute(select(personal_sealed.c.uuid, personal_sealed.c.sealed)).all())
        for uuid, other in ((one["uuid"], two["uuid"]), (two["uuid"], one["uuid"])):
            conn.execute(
                personal_sealed.update()
                .where(personal_sealed.c.uuid == uuid)
                .values(sealed=blobs[other])
            )
    for moved in (one, two):
        with pytest.raises(PersonalError, match="sealed for another record"):
            backoffice.open_record(store, moved["uuid"], keys, opener())
    with store.engine.connect() as conn:
        outcomes = conn.execute(select(personal_openings.c.outcome)).scalars().all()
    assert len(outcomes) == 3 and all(o.startswith("failed: ") for o in outcomes)


def test_rotation_records_carry_their_key_and_old_ones_open_with_the_old_key(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    new_private = X25519PrivateKey.generate()
    new_public = PersonalKey.of(new_private.public_key())
    old_fields, new_fields = resident(), resident()
    before, after = feedback(1, old_fields), feedback(2, new_fields, key=new_public)
    post(client, kiosk, [before, after])

    only_new = Keyring([new_private])
    assert backoffice.open_record(store, after["uuid"], only_new, opener()).fields == new_fields
    with pytest.raises(PersonalError, match=f"sealed to key {PUBLIC.key_id}; keys given: "):
        backoffice.open_record(store, before["uuid"], only_new, opener())
    both = Keyring([new_private, BACK_OFFICE])
    assert backoffice.open_record(store, before["uuid"], both, opener()).fields == old_fields

    backoffice.register_key(store, PUBLIC)
    backoffice.register_key(store, new_public)
    backoffice.retire_key(store, PUBLIC.key_id)
    assert store.current_personal_key() == new_public
    listed = {k["key_id"]: k for k in backoffice.keys(store)}
    assert listed[PUBLIC.key_id]["retired_at"] and listed[PUBLIC.key_id]["sealed_parts"] == 1
    assert listed[new_public.key_id]["retired_at"] is None
    assert listed[new_public.key_id]["sealed_parts"] == 1


def test_retention_purges_personal_parts_and_keeps_the_transactions(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    old, recent = feedback(1, resident()), feedback(2, resident())
    post(client, kiosk, [old, recent])
    long_ago = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    with store.engine.begin() as conn:
        conn.execute(
            personal_sealed.update()
            .where(personal_sealed.c.uuid == old["uuid"])
            .values(received_at=long_ago)
        )
    assert backoffice.purge(store, 30) == 1
    assert backoffice.purge(store, 30) == 0
    markers = [t["personal"] for t in read_back(client, kiosk).json()["transactions"]]
    assert markers == ["purged", "sealed"]
    with pytest.raises(PersonalError, match="purged: past the retention period"):
        backoffice.open_record(store, old["uuid"], Keyring([BACK_OFFICE]), opener())
    assert store.count_transactions() == 2
    with pytest.raises(PersonalError, match="at least 1 day"):
        backoffice.purge(store, 0)


# -- terminals from before sealing, and a database from before schema 6 --------------------------


def test_a_terminal_before_sealing_is_refused_without_a_key_and_sealed_on_arrival_with_one(
    client: TestClient, kiosk: Kiosk, store: CentralStore, db_url: str
) -> None:
    fields = resident()
    old_style = item(1, service="feedback", payload={"has_text": True, "personal": fields})
    (refused,) = post(client, kiosk, [old_style])
    assert refused["status"] == "rejected"
    assert "no personal-data key on the platform" in refused["reason"]
    assert not any(value in refused["reason"] for value in fields.values())

    backoffice.register_key(store, PUBLIC)
    assert [r["status"] for r in post(client, kiosk, [old_style])] == ["accepted"]
    assert [r["status"] for r in post(client, kiosk, [old_style])] == ["duplicate"]
    (stored,) = read_back(client, kiosk).json()["transactions"]
    assert stored["payload"] == {"has_text": True} and stored["personal"] == "sealed"
    opened = backoffice.open_record(store, old_style["uuid"], Keyring([BACK_OFFICE]), opener())
    assert opened.fields == fields
    with store.engine.connect() as conn:
        assert conn.execute(select(personal_sealed.c.sealed_by)).scalar_one() == "platform"
    assert clear_values_in(db_url, fields) == []


def test_an_upgrade_hides_clear_personal_parts_until_a_registered_key_seals_them(
    db_url: str,
) -> None:
    fields = resident()
    old_style = item(1, service="feedback", payload={"has_text": True, "personal": fields})
    nested = item(2, payload={"note": {"personal": {"x": 1}}})  # not a personal part
    opened = CentralStore.open(db_url)
    token = opened.add_kiosk("kiosk-001")
    kiosk = Kiosk("kiosk-001", token)
    # The database as schema 5 left it: clear personal parts in the payload, no personal tables.
    with opened.engine.begin() as conn:
        for table in ("personal_sealed", "personal_keys", "personal_openings"):
            conn.exec_driver_sql(f"DROP TABLE {table}")
        conn.exec_driver_sql("ALTER TABLE transactions DROP COLUMN personal")
        conn.execute(schema_version.update().values(version=5))
        for n, body in enumerate((old_style, nested), start=1):
            conn.execute(
                transactions.insert().values(
                    kiosk_id="kiosk-001", uuid=body["uuid"], seq=n, service=body["service"],
                    payload=canonical_text(body["payload"]), payload_sha256="0" * 64,
                    created_at=body["created_at"], received_at="2025-03-01T01:30:00+00:00",
                )
            )  # fmt: skip
    opened.close()

    upgraded = CentralStore.open(db_url)
    try:
        with upgraded.engine.connect() as conn:
            markers = dict(conn.execute(select(transactions.c.uuid, transactions.c.personal)).all())
        assert markers == {old_style["uuid"]: "clear", nested["uuid"]: "clear"}
        shown = upgraded.transactions("kiosk-001")
        assert [t.personal for t in shown] == ["unsealed", "unsealed"]
        assert "personal" not in shown[0].payload
        assert backoffice.count_clear(upgraded) == 2

        assert backoffice.register_key(upgraded, PUBLIC) == 1
        assert backoffice.count_clear(upgraded) == 0
        assert [t.personal for t in upgraded.transactions("kiosk-001")] == ["sealed", None]
        got = backoffice.open_record(upgraded, old_style["uuid"], Keyring([BACK_OFFICE]), opener())
        assert got.fields == fields
        # The old terminal sends it again (its acknowledgement was lost): still a duplicate.
        from central.api import create_app

        with TestClient(create_app(upgraded)) as client:
            assert post(client, kiosk, [old_style])[0]["status"] == "duplicate"
        with upgraded.engine.connect() as conn:
            payloads = " ".join(conn.execute(select(transactions.c.payload)).scalars())
        assert not any(value in payloads for value in fields.values())
        if db_url.startswith("sqlite"):
            # secure_delete and a folded WAL: not even the files keep the old clear values.
            # PostgreSQL keeps them in dead row versions until VACUUM, and in WAL segments
            # until they are recycled: the README says so.
            assert clear_values_in(db_url, fields) == []
    finally:
        upgraded.close()


# -- the commands -------------------------------------------------------------------------------


def test_keygen_open_audit_export_and_purge_commands(
    client: TestClient,
    kiosk: Kiosk,
    store: CentralStore,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["personal", "keygen", "--out", str(tmp_path / "keys"), "--name", "bo"]) == 0
    printed = capsys.readouterr().out.splitlines()
    public = PersonalKey.model_validate(json.loads(printed[-1])["personal_key"])
    private_file = tmp_path / "keys" / "bo.key"
    assert stat.S_IMODE(private_file.stat().st_mode) == 0o600

    fields = resident()
    sent = feedback(1, fields, key=public)
    post(client, kiosk, [sent, feedback(2, None)])

    assert main(["export", "--kiosk", kiosk.id, "--db", db_url]) == 0
    plain = capsys.readouterr().out
    assert [json.loads(line).get("personal") for line in plain.splitlines()] == ["sealed", None]
    assert not any(value in plain for value in fields.values())

    assert main(["personal", "open", sent["uuid"], "--key", str(private_file), "--db", db_url]) == 2
    assert "--why" in capsys.readouterr().err
    assert main(["export", "--kiosk", kiosk.id, "--db", db_url, "--personal-key",
                 str(private_file)]) == 2  # fmt: skip
    capsys.readouterr()

    args = ["--key", str(private_file), "--why", "call back", "--by", "bob", "--db", db_url]
    assert main(["personal", "open", sent["uuid"], *args]) == 0
    assert json.loads(capsys.readouterr().out)["personal"] == fields
    assert main(["export", "--kiosk", kiosk.id, "--db", db_url, "--personal-key",
                 str(private_file), "--why", "monthly review"]) == 0  # fmt: skip
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line.get("personal") for line in lines] == [fields, None]

    assert main(["personal", "audit", "--json", "--db", db_url]) == 0
    audit = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["via"], a["opened_by"], a["why"]) for a in audit] == [
        ("export", audit[0]["os_user"], "monthly review"),
        ("open", "bob", "call back"),
    ]

    os.chmod(private_file, 0o644)
    assert main(["personal", "open", sent["uuid"], *args]) == 1
    assert "readable by others" in capsys.readouterr().err

    with store.engine.begin() as conn:
        conn.execute(personal_sealed.update().values(received_at="2000-01-01T00:00:00+00:00"))
    assert main(["personal", "purge", "--retention-days", "30", "--db", db_url]) == 0
    assert capsys.readouterr().out.startswith("purged 1 personal part(s)")
