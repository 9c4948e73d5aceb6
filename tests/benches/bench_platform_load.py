"""The platform under a simulated fleet (issue 15, item 5): ``kiosk-central loadtest`` against
a real ``kiosk-central serve`` on loopback, in three set-ups, one after the other:

- PostgreSQL (a throwaway cluster), 2 workers, TLS on (a throwaway CA);
- the same with TLS off;
- the SQLite default (one process), TLS on.

For each: the realistic fleet (N terminals, a heartbeat and a batch of 1 to 10 visits every 30
to 60 s each, a new connection per request) and the saturation phase (C terminals in a closed
loop on keep-alive connections, 33 heartbeats to a batch of 100 transactions), with the CPU each
side used. Client, server and database share this machine, so the figures are for all three
together. Prints a table; not a test.

    .venv/bin/python tests/benches/bench_platform_load.py [--kiosks 5000] [--fleet-seconds 60]
        [--saturation-seconds 20] [--concurrency 16] [--only pg-tls,pg-plain,sqlite-tls]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.postgres_cluster import postgres_cluster  # noqa: E402


@dataclass(frozen=True)
class Setup:
    name: str
    backend: str  # postgresql | sqlite
    workers: int
    tls: bool


SETUPS = {
    "pg-tls": Setup("PostgreSQL, 2 workers, TLS", "postgresql", 2, True),
    "pg-plain": Setup("PostgreSQL, 2 workers, no TLS", "postgresql", 2, False),
    "sqlite-tls": Setup("SQLite default (1 process), TLS", "sqlite", 1, True),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    kids = [int(k) for k in found]
    return kids + [grandchild for kid in kids for grandchild in _children(kid)]


def _postgres_pids(db_url: str) -> list[int]:
    """The cluster's postmaster (the first line of postmaster.pid) and its backends."""
    from urllib.parse import parse_qs, urlsplit

    base = parse_qs(urlsplit(db_url).query)["host"][0]
    postmaster = int((Path(base) / "data" / "postmaster.pid").read_text().split()[0])
    return [postmaster, *_children(postmaster)]


@contextmanager
def _pki(folder: Path) -> Iterator[tuple[Path, Path, Path]]:
    import trustme

    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    ca_file, cert, key = folder / "ca.pem", folder / "platform.pem", folder / "platform.key"
    ca.cert_pem.write_to_path(str(ca_file))
    for i, pem in enumerate(leaf.cert_chain_pems):
        pem.write_to_path(str(cert), append=i > 0)
    leaf.private_key_pem.write_to_path(str(key))
    yield ca_file, cert, key


@contextmanager
def _serving(db_url: str, setup: Setup, pki: tuple[Path, Path, Path], log: Path) -> Iterator[
    tuple[str, subprocess.Popen[str]]
]:  # fmt: skip
    args = ["--db", db_url, "--port", "0", "--workers", str(setup.workers)]
    if setup.tls:
        args += ["--tls-cert", str(pki[1]), "--tls-key", str(pki[2])]
    with log.open("a") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "central", "serve", *args],
            stdout=subprocess.PIPE, stderr=sink, text=True,
        )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"serve did not start: {log.read_text()[-2000:]}")
        yield line.removeprefix("listening on "), proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _drop_tables(db_url: str) -> None:
    from sqlalchemy import create_engine

    from central.tables import metadata

    engine = create_engine(db_url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()


def run_setup(
    setup: Setup, db_url: str, pki: tuple[Path, Path, Path], folder: Path, args: argparse.Namespace
) -> list[dict[str, object]]:
    """Both phases against one server, each its own loadtest run, with the CPU that the server,
    the database and the client used during it."""
    tokens = folder / f"tokens-{setup.backend}.json"
    rows = []
    with _serving(db_url, setup, pki, folder / "serve.log") as (url, server):
        for phase, fleet, saturation in (
            ("fleet", args.fleet_seconds, 0.0),
            ("saturation", 0.0, args.saturation_seconds),
        ):
            if not fleet and not saturation:
                continue
            command = [
                sys.executable, "-m", "central", "loadtest", "--url", url,
                "--kiosks", str(args.kiosks), "--fleet-seconds", str(fleet),
                "--saturation-seconds", str(saturation),
                "--concurrency", str(args.concurrency), "--json",
            ]  # fmt: skip
            if phase == "fleet" or not tokens.exists():
                command += ["--db", db_url, "--save-tokens", str(tokens)]
            else:
                command += ["--tokens", str(tokens)]
            if setup.tls:
                command += ["--ca-file", str(pki[0])]
            row = _measured(command, server, setup, fleet + saturation, db_url)
            row.update(setup=setup.name)
            rows.append(row)
    return rows


def _measured(
    command: list[str], server: subprocess.Popen[str], setup: Setup, seconds: float, db_url: str
) -> dict[str, object]:
    server_pids = [server.pid, *_children(server.pid)]
    database_pids = _postgres_pids(db_url) if setup.backend == "postgresql" else []
    load_before = os.getloadavg()[0]
    mine = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    started = time.monotonic()
    server_before, db_before = _cpu_seconds(server_pids), _cpu_seconds(database_pids)
    out, _ = client.communicate(timeout=seconds + 600)
    elapsed = time.monotonic() - started
    server_after, db_after = _cpu_seconds(server_pids), _cpu_seconds(database_pids)
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    if client.returncode != 0:
        raise SystemExit(f"loadtest failed ({client.returncode}) for {setup.name}")
    row: dict[str, object] = json.loads(out.splitlines()[-1])
    client_cpu = (done.ru_utime + done.ru_stime) - (mine.ru_utime + mine.ru_stime)
    # Over the client's whole run (registration and start-up included), so a little low.
    row["server_cores"] = round((server_after - server_before) / elapsed, 2)
    row["db_cores"] = round((db_after - db_before) / elapsed, 2) if database_pids else None
    row["client_cores"] = round(client_cpu / elapsed, 2)
    row["load_before"] = round(load_before, 2)
    requests = float(row["heartbeats_per_s"]) + float(row["batches_per_s"])  # type: ignore[arg-type]
    # What the server's CPU bought, whatever share of the machine it got: neighbours on a
    # shared machine change the rates above, much less this.
    row["server_ms_per_request"] = (
        round(float(row["server_cores"]) * 1000 / requests, 2) if requests else None  # type: ignore[arg-type]
    )
    return row


def table(rows: list[dict[str, object]]) -> str:
    head = (
        f"{'set-up':<34}{'phase':<12}{'terminals':>9}{'hb/s':>8}{'tx/s':>8}{'hb p50':>8}"
        f"{'hb p99':>8}{'batch p50':>10}{'batch p99':>10}{'p99 all':>8}  errors"
    )
    lines = [head, "-" * len(head)]

    def ms(value: object) -> str:
        return "-" if value is None else f"{value:.1f}"

    for row in rows:
        trouble: dict[str, object] = {**row["not_200"], **row["errors"]}  # type: ignore[dict-item]
        lines.append(
            f"{row['setup']!s:<34}{row['phase']!s:<12}{row['terminals']!s:>9}"
            f"{row['heartbeats_per_s']:>8.0f}{row['transactions_per_s']:>8.0f}"
            f"{ms(row['heartbeat_p50_ms']):>8}{ms(row['heartbeat_p99_ms']):>8}"
            f"{ms(row['batch_p50_ms']):>10}{ms(row['batch_p99_ms']):>10}{ms(row['p99_ms']):>8}"
            f"  {json.dumps(trouble) if trouble else '-'}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kiosks", type=int, default=5000)
    parser.add_argument("--fleet-seconds", type=float, default=60.0)
    parser.add_argument("--saturation-seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", default=",".join(SETUPS), help="comma-separated set-ups")
    args = parser.parse_args()
    chosen = [SETUPS[name] for name in args.only.split(",")]
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-platform-") as tmp:
        folder = Path(tmp)
        with _pki(folder) as pki, postgres_cluster(_free_port()) as pg_url:
            for setup in chosen:
                if setup.backend == "postgresql":
                    _drop_tables(pg_url)
                    db_url = pg_url
                else:
                    db_url = f"sqlite:///{folder / (setup.name[:6] + '.db')}"
                print(f"running: {setup.name} ...", file=sys.stderr, flush=True)
                rows += run_setup(setup, db_url, pki, folder, args)
    print(table(rows))
    print()
    for row in rows:
        db = row["db_cores"] if row["db_cores"] is not None else "-"
        print(
            f"{row['setup']} / {row['phase']}: CPU cores used: server {row['server_cores']}, "
            f"database {db}, load generator {row['client_cores']}; server CPU per request "
            f"{row['server_ms_per_request']} ms; load average before {row['load_before']}"
        )
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"on {os.cpu_count()} cores; goal: >= 1000 hb/s and >= 3000 tx/s with p99 <= 100 ms, "
          "TLS on")  # fmt: skip


if __name__ == "__main__":
    main()
