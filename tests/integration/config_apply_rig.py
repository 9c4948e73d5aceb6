"""Applies configuration versions in a loop until killed (for the SIGKILL test): each bundle is
large, so a kill often lands inside a write. Prints ``applied N`` after each apply returns."""

from __future__ import annotations

import sys
from pathlib import Path

from kiosk.config.bundle_store import ConfigStore


def body(version: int) -> bytes:
    return (f"version {version}\n" * 20_000).encode()  # about 250 KB


def main() -> None:
    store = ConfigStore(Path(sys.argv[1]))
    version = store.state().highest
    print("ready", flush=True)
    while True:
        version += 1
        store.apply(version, body(version))
        print(f"applied {version}", flush=True)
        if version % 3 == 0:
            store.rollback()
            print(f"rolled back to {version - 1}", flush=True)


if __name__ == "__main__":
    main()
