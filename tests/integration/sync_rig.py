"""A terminal reduced to its outbox and sync client, for the SIGKILL test: records and pushes in
a loop until killed. Prints ``recorded UUID`` only after record() has returned (the commit is on
disk), so the test knows exactly which transactions the terminal promised to keep."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts.personal import PersonalKey
from offline.outbox import OutboxStore
from offline.sync import RefusedError, SyncClient, TransientError


def main() -> None:
    db, url, kiosk_id, token = sys.argv[1:5]
    store = OutboxStore(Path(db))
    # The platform's personal-data key (a new one each run: each record carries its key's id).
    key = PersonalKey.of(X25519PrivateKey.generate().public_key())
    client = SyncClient(store, url, kiosk_id, token, batch_size=5, timeout=5,
                        personal_key=lambda: key)  # fmt: skip
    print("ready", flush=True)
    for n in itertools.count():
        rec = store.record("crash_test", {"n": n}, personal={"name": "测试"})
        print(f"recorded {rec.uuid}", flush=True)
        if n % 3 == 2:
            try:
                client.push(max_batches=1)
            except (TransientError, RefusedError) as exc:
                print(f"push failed {exc}", flush=True)


if __name__ == "__main__":
    main()
