"""A staged configuration rollout across three simulated terminals against a real platform
process: a share first, then everyone; a forged copy refused by all three with its reason, and
the operator sees each terminal's version and rejections."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from central.rollout import in_rollout
from kiosk.config.updater import ConfigUpdater
from offline.outbox import OutboxStore
from offline.sync import SyncClient, SyncWorker
from tests.platform_process import platform_process

KIOSKS = ("kiosk-a", "kiosk-b", "kiosk-c")


def central(*args: str) -> str:
    res = subprocess.run([sys.executable, "-m", "central", *args], capture_output=True,
                         text=True, timeout=60, check=False)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_staged_rollout_then_a_forged_copy(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    for name in ("alice", "bob", "carol"):
        central("config", "keygen", "--out", str(keys), "--name", name)
    with platform_process(tmp_path / "central", kiosk_id="operator-console") as platform:
        db = ("--db", platform.db_url)
        terminals = []
        for kiosk_id in KIOSKS:
            token = central("kiosk", "add", kiosk_id, "--group", "hepingli", *db).split()[-1]
            data = tmp_path / kiosk_id
            trust = data / "keys" / "config-trust"
            trust.mkdir(parents=True)
            for name in ("alice", "bob", "carol"):
                (trust / f"{name}.pub").write_text((keys / f"{name}.pub").read_text())
            (trust / "threshold").write_text("2")
            store = OutboxStore(data / "kiosk.db")
            updater = ConfigUpdater(data, kiosk_id, frozenset({"hepingli"}), trusted=trust)
            client = SyncClient(store, platform.url, kiosk_id, token)
            worker = SyncWorker(client, store, config_offer=updater.offer, config_seconds=0)
            terminals.append((kiosk_id, store, updater, worker))

        payload = tmp_path / "payload.json"
        payload.write_text(json.dumps({"schema_version": 2, "timeouts": {"identify": 100}}))
        bundle = tmp_path / "v1.json"
        central("config", "draft", "--version", "1", "--payload", str(payload),
                "--group", "hepingli", "--out", str(bundle))  # fmt: skip
        for name in ("alice", "bob"):
            central("config", "sign", str(bundle), "--key", str(keys / f"{name}.key"), "--yes")

        # A share of the group first: exactly the terminals the rollout hash picks.
        share = 50
        central("config", "publish", str(bundle), "--group", "hepingli",
                "--percent", str(share), *db)  # fmt: skip
        for _, _, _, worker in terminals:
            worker.run_once()
        expected = {k for k in KIOSKS if in_rollout(k, 1, share)}
        assert 0 < len(expected) < len(KIOSKS)  # a real stage: some, not all
        running = {k for k, _, updater, _ in terminals if updater.store.state().current == 1}
        assert running == expected

        central("config", "publish", str(bundle), "--group", "hepingli", "--percent", "100", *db)
        for _, _, _, worker in terminals:
            worker.run_once()
        assert all(u.store.state().current == 1 for _, _, u, _ in terminals)
        rows = [json.loads(x) for x in central("config", "status", "--json", *db).splitlines()]
        fleet = {r["id"]: r for r in rows if r["id"] in KIOSKS}
        assert all(r["version"] == 1 and r["status"] == "applied" for r in fleet.values())

        # Someone edits a signed bundle and publishes it as version 2: nobody takes it.
        doc = json.loads(bundle.read_text())
        doc["signed"]["version"] = 2
        doc["signed"]["payload"]["timeouts"]["identify"] = 3600
        forged = tmp_path / "v2-forged.json"
        forged.write_text(json.dumps(doc))
        central("config", "publish", str(forged), "--group", "hepingli", *db)
        for _, _, _, worker in terminals:
            worker.run_once()
        assert all(u.store.state().current == 1 for _, _, u, _ in terminals)
        rows = [json.loads(x) for x in central("config", "status", "--json", *db).splitlines()]
        for row in (r for r in rows if r["id"] in KIOSKS):
            assert row["version"] == 1 and row["status"] == "rejected"
            assert row["reason"].startswith("bad_signature:")
        text = central("config", "status", "--group", "hepingli", *db)
        assert text.count("rejected") == 3
        # The refusal was reported once: the next round asks conditionally and gets 304.
        for _, _, _, worker in terminals:
            worker.run_once()
        for _, store, _, _ in terminals:
            store.close()
