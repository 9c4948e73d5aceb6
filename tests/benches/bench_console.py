"""Console benchmark (issue 16): PostgreSQL seeded with a fleet (2,000 terminals in 20 groups) and
its visit records over 30 days (5 million visits by default, each a visit_metrics record, three in
five rated), then:

- the roll-up: how fast the KPI rollups catch up with all of it (records per second);
- every console page, server time (in process, through the ASGI app: no network, no browser),
  p50 and p95 over --repeat requests each; goal p95 <= 200 ms;
- ``kiosk-central kpi`` for the whole fleet over 30 days (report() in process, and the command's
  wall time including Python's start), goal <= 1 s.

Records go in with COPY, as if the terminals had sent them (kiosk_id, uuid, seq, service, payload,
created_at, received_at), straight into a throwaway cluster (tests/postgres_cluster.py).

    .venv/bin/python tests/benches/bench_console.py [--visits 5000000] [--kiosks 2000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psycopg
from fastapi.testclient import TestClient

from central import kpi
from central.api import create_app
from central.console import accounts
from central.server import settle_heap
from central.store import CentralStore
from tests.postgres_cluster import postgres_cluster

SERVICES = [
    "social_security", "medical_insurance", "housing_fund", "certificate",
    "application_progress", "appointment", "queue_ticket", "feedback", "call_staff",
]  # fmt: skip
STEPS = ["identify", "catalogue", "choose", "confirm", "processing", "result"]
GOAL_PAGE_MS, GOAL_KPI_S = 200.0, 1.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed(conninfo: str, kiosks: int, visits: int, days: int, rng: random.Random) -> int:
    """Kiosks, heartbeats and *visits* visits' records; returns the transactions written."""
    today = date.today()
    now = datetime.now(UTC)
    written = 0
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cur:
        with cur.copy("COPY kiosks (id, token_hash, grp, created_at) FROM STDIN") as copy:
            for k in range(kiosks):
                copy.write_row((f"kiosk-{k:05d}", uuid.uuid4().hex + uuid.uuid4().hex,
                                f"centre-{k % 20:02d}", now.isoformat()))  # fmt: skip
        with cur.copy("COPY heartbeats (kiosk_id, last_seen, app_version, devices, queue_depth,"
                      " workers) FROM STDIN") as copy:  # fmt: skip
            for k in range(kiosks):
                age = 3600 if k % 97 == 0 else rng.randint(0, 90)  # a few offline
                fault = k % 53 == 0
                devices = [{"name": "receipt_printer", "kind": "receipt_printer",
                            "driver": "escpos", "state": "fault" if fault else "ready",
                            "fault_code": "paper_out" if fault else None}]  # fmt: skip
                copy.write_row((f"kiosk-{k:05d}", (now - timedelta(seconds=age)).isoformat(),
                                "0.1.0", json.dumps(devices), rng.randint(0, 5), "[]"))  # fmt: skip
        seq = [0] * kiosks
        began = time.monotonic()
        with cur.copy("COPY transactions (kiosk_id, uuid, seq, service, payload, payload_sha256,"
                      " created_at, received_at) FROM STDIN") as copy:  # fmt: skip
            for n in range(visits):  # day by day, as terminals deliver them
                k = rng.randrange(kiosks)
                day = today - timedelta(days=days - 1 - n * days // visits)
                at = datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59),
                              tzinfo=UTC).isoformat()  # fmt: skip
                service = rng.choice(SERVICES)
                completed = rng.random() < 0.86
                steps = [{"step": s, "seconds": round(rng.uniform(1, 25), 1)}
                         for s in STEPS[: rng.randint(2, 6)]]  # fmt: skip
                metrics = {"record": "visit_metrics", "visit_id": uuid.uuid4().hex,
                           "service": service, "steps": steps,
                           "seconds": round(sum(s["seconds"] for s in steps), 1),
                           "completed": completed,
                           "ended": "finished" if completed else "cancelled",
                           "ended_at": "goodbye" if completed else rng.choice(STEPS),
                           "faults": ["receipt_printer/paper_out"] if rng.random() < 0.03 else [],
                           "elder": rng.random() < 0.2,
                           "language": "en" if rng.random() < 0.05 else "zh_CN"}  # fmt: skip
                seq[k] += 1
                copy.write_row((f"kiosk-{k:05d}", str(uuid.uuid4()), seq[k], "visit_metrics",
                                json.dumps(metrics), "-", at, now.isoformat()))  # fmt: skip
                written += 1
                if rng.random() < 0.6:
                    score = rng.choices([5, 4, 3, 2, 1], weights=[60, 25, 10, 3, 2])[0]
                    rating = {"record": "rating", "visit_id": metrics["visit_id"],
                              "service": service, "score": score}  # fmt: skip
                    seq[k] += 1
                    copy.write_row((f"kiosk-{k:05d}", str(uuid.uuid4()), seq[k], "rating",
                                    json.dumps(rating), "-", at, now.isoformat()))  # fmt: skip
                    written += 1
                if n and n % 500_000 == 0:
                    rate = n / (time.monotonic() - began)
                    print(f"  seeded {n:,} visits ({rate:,.0f}/s)", flush=True)
        cur.execute("ANALYZE")
    return written


def timed(call, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=5_000_000)
    parser.add_argument("--kiosks", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(16)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
          f"{os.cpu_count()} CPUs", flush=True)  # fmt: skip
    settings = {"shared_buffers": "512MB", "work_mem": "32MB", "max_wal_size": "4GB"}
    with postgres_cluster(free_port(), settings=settings) as url:
        store = CentralStore.open(url)
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        began = time.monotonic()
        written = seed(conninfo, args.kiosks, args.visits, args.days, rng)
        print(f"seeded {args.kiosks:,} terminals, {args.visits:,} visits, {written:,} records in "
              f"{time.monotonic() - began:.0f} s", flush=True)  # fmt: skip
        began = time.monotonic()
        read = kpi.catch_up(store, now=datetime.now(UTC) + timedelta(minutes=1))
        took = time.monotonic() - began
        print(
            f"roll-up: {read:,} records in {took:.0f} s = {read / took:,.0f} records/s", flush=True
        )
        accounts.add_user(store, "bench", "admin", "bench password")
        since = (date.today() - timedelta(days=args.days - 1)).isoformat()
        pages = [
            "/console/fleet", "/console/fleet?state=attention", "/console/kiosks/kiosk-00007",
            f"/console/kpi?since={since}&by=service", f"/console/kpi?since={since}&by=day",
            f"/console/kpi?since={since}&by=group", f"/console/kpi?since={since}&by=kiosk",
            f"/console/kpi.csv?since={since}&by=service", "/console/cases",
            "/console/cases?state=overdue", "/console/alerts", "/console/rollouts",
        ]  # fmt: skip
        results = []
        app = create_app(store)
        settle_heap()  # as kiosk-central serve does once its app is built
        with TestClient(app, base_url="https://platform.test") as client:
            login = client.get("/console/login")
            token = login.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            answer = client.post("/console/login", data={"csrf": token, "name": "bench",
                                 "password": "bench password"}, follow_redirects=False)  # fmt: skip
            assert answer.status_code == 303, answer.text
            for path in pages:
                assert client.get(path).status_code == 200, path  # warm
                p50, p95 = timed(lambda path=path: client.get(path), args.repeat)
                results.append((path, p50, p95))
        print(f"\n{'page':58} {'p50 ms':>8} {'p95 ms':>8}")
        for path, p50, p95 in results:
            verdict = "met" if p95 <= GOAL_PAGE_MS else "MISSED"
            print(f"{path:58} {p50:8.1f} {p95:8.1f}  {verdict}")
        whole = kpi.Filter(since=date.fromisoformat(since), until=date.today())
        for by in (None, "service", "group", "day", "kiosk"):
            p50, p95 = timed(lambda by=by: kpi.report(store, whole, by), max(5, args.repeat // 2))  # type: ignore[arg-type]
            verdict = "met" if p95 / 1000 <= GOAL_KPI_S else "MISSED"
            print(f"kpi report, whole fleet, 30 days, by {by or '-':8} p50 {p50:7.1f} ms  "
                  f"p95 {p95:7.1f} ms  {verdict}")  # fmt: skip
        began = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "central", "kpi", "--db", url, "--since", since, "--by",
             "service", "--json"], capture_output=True, text=True, check=False,
        )  # fmt: skip
        wall = time.monotonic() - began
        assert done.returncode == 0, done.stderr
        total = json.loads(done.stdout)["total"]
        print(f"kiosk-central kpi --by service --json (whole fleet, 30 days): {wall:.2f} s wall, "
              f"Python start included; visits {total['visits']:,}, 一次办成率 "
              f"{total['done_in_one_visit']:.1%}, 满意率 {total['satisfaction']:.1%}")  # fmt: skip
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
