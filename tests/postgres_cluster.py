"""A throwaway PostgreSQL cluster: initdb and pg_ctl in a temporary directory, Unix socket only,
no TCP, fsync off; for the platform's tests and its load benchmark.

It runs as the ``postgres`` user when the caller is root, because the server refuses to run as
root.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ClusterUnavailableError(Exception):
    """No PostgreSQL server can be started here; the message says what to install."""


class ClusterStartError(Exception):
    """initdb or pg_ctl failed; the message is the server's reason."""


def postgres_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's versioned layout."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


@contextmanager
def postgres_cluster(port: int, *, settings: dict[str, str] | None = None) -> Iterator[str]:
    """Start a cluster listening on a Unix socket named for *port*; yield its SQLAlchemy URL;
    stop it and remove its files on leaving. *settings* are extra ``-c name=value``."""
    bindir = postgres_bindir()
    if bindir is None:
        raise ClusterUnavailableError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        )
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        raise ClusterUnavailableError(
            "running as root without runuser: cannot start PostgreSQL as another user"
        )
    # Not under pytest's tmp_path: its parents are private to root, and postgres must reach it.
    base = Path(tempfile.mkdtemp(prefix="kiosk-central-pg-"))
    prefix: list[str] = []
    if as_root:
        shutil.chown(base, user="postgres", group="postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data = base / "data"

    def run(*args: str) -> None:
        subprocess.run(
            [*prefix, *args], check=True, capture_output=True, text=True, timeout=60, cwd=base
        )

    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    extra = "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
    options = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off{extra}"
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
        raise ClusterStartError(f"could not start PostgreSQL: {detail}") from None
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={base}&port={port}"
    finally:
        run(*pg_ctl, "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)
