"""Verification of a signed configuration bundle carrying a 200-service catalogue: strict parse,
two Ed25519 signatures over the canonical form, expiry/version/target checks, schema validation
(including parsing the catalogue). Median over many runs; goal <= 5 ms. ``--reference`` runs the
standard library's json for parsing and canonical encoding instead of orjson's fast paths (what
contracts/canonical.py did before them), for comparison on the same machine.

    .venv/bin/python tests/benches/bench_bundle_verify.py [--services 200] [--runs 200] [--lean]
        [--reference]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import contracts.signing
import contracts.verify
from contracts.canonical import _reference, _reference_loads
from contracts.payload import SCHEMA_VERSION
from contracts.signing import Trust, generate, key_id, load_private, load_public, sign
from contracts.verify import verify_bundle


def catalogue(services: int, *, lean: bool = False) -> dict[str, object]:
    """Each service as an operator writes it: bilingual name and help, three steps, four
    windows with bilingual names (about 700 bytes). *lean*: names only, windows unnamed (the
    shape of session 2's figure, about 270 bytes)."""
    if lean:
        return {
            "services": [
                {
                    "code": f"service_{n:03d}",
                    "name": {"zh_CN": f"业务{n:03d}", "en": f"Service {n:03d}"},
                    "steps": ["identify:id_card", "choose", "confirm"],
                    "needs": ["receipt_printer"][: n % 2],
                    "options": [{"code": f"option_{k}", "prefix": "ABCD"[k]} for k in range(4)],
                }
                for n in range(services)
            ]
        }
    return {
        "services": [
            {
                "code": f"service_{n:03d}",
                "icon": "ticket",
                "name": {"zh_CN": f"业务{n:03d}", "en": f"Service {n:03d}"},
                "help": {"zh_CN": f"第{n}项业务的说明", "en": f"What service {n} is for"},
                "steps": ["identify:id_card", "choose", "confirm"],
                "action": "ticket",
                "works_offline": n % 2 == 0,
                "needs": ["receipt_printer"][: n % 2],
                "options": [
                    {
                        "code": f"option_{k}",
                        "prefix": "ABCD"[k],
                        "name": {"zh_CN": f"窗口{k}", "en": f"Counter {k}"},
                    }
                    for k in range(4)
                ],
            }
            for n in range(services)
        ]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--lean", action="store_true", help="names only, unnamed windows")
    parser.add_argument("--reference", action="store_true", help="json, not orjson")
    args = parser.parse_args()
    if args.reference:
        contracts.signing.canonical = _reference  # type: ignore[attr-defined]
        contracts.verify.strict_loads = _reference_loads  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("alice", "bob", "carol"):
            generate(folder, name)
        keys = {}

        for name in ("alice", "bob", "carol"):
            public = load_public(folder / f"{name}.pub")
            keys[key_id(public)] = public
        trust = Trust(keys, 2)
        now = datetime.now().astimezone().replace(microsecond=0)
        signed = {
            "version": 7,
            "issued_at": now.isoformat(),  # within the 90 days a terminal accepts
            "expires_at": (now + timedelta(days=30)).isoformat(),
            "targets": {"kiosks": [], "groups": ["hepingli"]},
            "payload": {"schema_version": SCHEMA_VERSION,
                        "catalogue": catalogue(args.services, lean=args.lean),
                        "timeouts": {"identify": 120}},
        }  # fmt: skip
        sigs = [sign(signed, load_private(folder / f"{n}.key")) for n in ("alice", "bob")]
        data = json.dumps({"signed": signed, "signatures": sigs}).encode()
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        verify_bundle(data, trust, kiosk_id="kiosk-7", groups=frozenset({"hepingli"}),
                      last_version=6)  # fmt: skip
        times.append(time.perf_counter() - started)
    median = statistics.median(times) * 1000
    path = "json (reference)" if args.reference else "orjson fast paths"
    print(f"bundle {len(data)} bytes, {args.services} services, 2 of 3 signatures, {path}")
    p95 = sorted(times)[int(0.95 * len(times))] * 1000
    print(f"verify: median {median:.2f} ms, p95 {p95:.2f} ms over {args.runs} runs (goal <= 5 ms)")


if __name__ == "__main__":
    main()
