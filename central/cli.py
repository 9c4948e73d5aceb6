"""The ``kiosk-central`` command line: serve the API, register kiosks, export what was received,
mint sample codes for the online services, call the queue.

Exit codes: 0 ok, 1 failure, 2 usage. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import sys
import threading
from collections.abc import Generator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import click

from central import __version__
from central.bundle_commands import ConfigCliError
from central.database import PoolSize, StoreError
from central.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE, RateLimit
from central.personal_commands import retention_option
from central.store import CentralStore
from contracts.wire import KIOSK_ID_PATTERN

log = logging.getLogger("central")


class CentralCliError(Exception):
    """A command failed for a reason the message states; exit code 1."""


def default_db_url() -> str:
    import platformdirs

    path = Path(platformdirs.user_data_dir("kiosk-central")) / "central.db"
    return f"sqlite:///{path}"


DB = click.option(
    "--db",
    "db_url",
    envvar="KIOSK_CENTRAL_DB",
    show_envvar=True,
    metavar="URL",
    help="sqlite:///PATH (default: central.db in the user data directory) or "
    "postgresql+psycopg://USER:PASSWORD@HOST/DB.",
)


@contextmanager
def opened_store(
    db_url: str | None, *, pool: PoolSize | None = None
) -> Generator[CentralStore, None, None]:
    store = CentralStore.open(db_url or default_db_url(), pool=pool)
    try:
        yield store
    finally:
        store.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kiosk-central")
def cli() -> None:
    """Reference central platform: terminals deliver their transactions here exactly once."""


@cli.command()
@DB
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8700,
    show_default=True,
    help="TCP port; 0 picks a free one (the 'listening on' line shows it).",
)
@click.option(
    "--tls-cert",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Serve https with this certificate (PEM, intermediates after it); needs --tls-key.",
)
@click.option(
    "--tls-key",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="The certificate's private key (PEM, unencrypted; readable by this service only).",
)
@retention_option("--personal-retention-days", in_serve=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    envvar="KIOSK_CENTRAL_WORKERS",
    show_envvar=True,
    help="API worker processes sharing the port, each with its own connection pool "
    "(PostgreSQL; on SQLite writes take turns whatever the count).",
)
@click.option(
    "--db-pool",
    type=click.IntRange(1, 1000),
    default=PoolSize().size,
    show_default=True,
    envvar="KIOSK_CENTRAL_DB_POOL",
    show_envvar=True,
    help="PostgreSQL connections each worker keeps open.",
)
@click.option(
    "--db-overflow",
    type=click.IntRange(0, 1000),
    default=PoolSize().overflow,
    show_default=True,
    envvar="KIOSK_CENTRAL_DB_OVERFLOW",
    show_envvar=True,
    help="Further connections a worker may open at a peak; at most "
    "workers x (pool + overflow + 3) in all, plus 2 for the supervisor.",
)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(1024, 1 << 30),
    default=DEFAULT_MAX_BODY_BYTES,
    show_default=True,
    envvar="KIOSK_CENTRAL_MAX_BODY_BYTES",
    show_envvar=True,
    help="A request body over this is refused with 413 before it is read.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(0, min_open=False),
    default=DEFAULT_RATE.per_second,
    show_default=True,
    envvar="KIOSK_CENTRAL_RATE_LIMIT",
    show_envvar=True,
    metavar="PER_SECOND",
    help="Requests per second each token may send, sustained, to each worker (0: no limit); "
    "past it: 429 with Retry-After.",
)
@click.option(
    "--rate-burst",
    type=click.IntRange(1, 1_000_000),
    default=DEFAULT_RATE.burst,
    show_default=True,
    envvar="KIOSK_CENTRAL_RATE_BURST",
    show_envvar=True,
    help="Requests a token may send at once before --rate-limit applies.",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="A log line per request (a fleet of thousands makes hundreds a second; errors and "
    "warnings are logged either way).",
)
@click.option(
    "--alerts",
    "alerts_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="KIOSK_CENTRAL_ALERTS",
    show_envvar=True,
    metavar="FILE",
    help="Alert rules and webhooks (TOML; README, 'Alerts'). Default: the built-in rules, "
    "no webhook.",
)
def serve(
    db_url: str | None,
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    retention_days: int,
    workers: int,
    db_pool: int,
    db_overflow: int,
    max_body_bytes: int,
    rate_limit: float,
    rate_burst: int,
    access_log: bool,
    alerts_file: Path | None,
) -> None:
    """Run the HTTP API until SIGTERM or Ctrl-C.

    Prints one line 'listening on http(s)://HOST:PORT' on stdout once connections are accepted
    (by every worker). Residents' personal parts are stored sealed; past the retention period
    they are purged.
    """
    from central.api import create_app
    from central.server import (
        TlsFiles,
        TlsSetupError,
        WorkerApp,
        WorkersFailedError,
        check_tls_files,
        serve_on,
        serve_workers,
        settle_heap,
    )

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    tls = TlsFiles(tls_cert, tls_key) if tls_cert and tls_key else None
    if tls is not None:
        try:
            check_tls_files(tls)  # before the database opens: a bad file is the only line
        except TlsSetupError as exc:
            raise CentralCliError(f"serve: {exc}") from None
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,  # main() installed a NullHandler for the other commands
    )
    from central.alerts import load_rules
    from central.background import start_rounds

    rules = load_rules(alerts_file)  # a bad file is one line before anything listens
    limit = RateLimit(rate_limit, rate_burst) if rate_limit > 0 else None
    pool = PoolSize(db_pool, db_overflow)
    # The supervisor's own store (schema, purge) needs no more than two connections.
    with opened_store(db_url, pool=PoolSize(1, 1) if workers > 1 else pool) as store:
        listener = _listen(host, port)
        stop = threading.Event()
        try:
            log.info("database %s", store.describe())
            _warn_clear_personal(store)
            if retention_days:
                _purge_on_schedule(store, retention_days, stop)
            start_rounds(store, rules, stop)  # KPI roll-up, 差评 cases, alerts
            if workers == 1:
                app = create_app(store, max_body_bytes=max_body_bytes, rate_limit=limit)
                settle_heap()
                serve_on(listener, app, host, tls, access_log=access_log)
                return
            if store.dialect == "sqlite":
                log.warning(
                    "%d workers on SQLite: they share one file and its writes take turns, so "
                    "more workers add CPU for TLS and JSON but no write throughput; use "
                    "PostgreSQL to scale out",
                    workers,
                )
            log.info(
                "%d workers, each with up to %d database connection(s); rate limit %s per worker",
                workers, pool.most, f"{limit.per_second:g}/s per token" if limit else "off",
            )  # fmt: skip
            settings = WorkerApp(db_url or default_db_url(), pool, max_body_bytes, limit)
            try:
                serve_workers(listener, settings, host, tls, workers, access_log=access_log)
            except WorkersFailedError as exc:
                raise CentralCliError(f"serve: {exc}") from None
        finally:
            stop.set()
            listener.close()


PURGE_SECONDS = 3600


def _purge_on_schedule(store: CentralStore, days: int, stop: threading.Event) -> None:
    """Purge personal parts past retention now and every hour, beside the API, until *stop*."""
    from central.backoffice import purge

    def run() -> None:
        while True:
            try:
                purged = purge(store, days)
                if purged:
                    log.info("purged %d personal part(s) older than %d day(s)", purged, days)
            except StoreError as exc:  # the database is away: the next round tries again
                log.warning("personal data purge: %s", exc)
            if stop.wait(PURGE_SECONDS):
                return

    threading.Thread(target=run, name="personal-purge", daemon=True).start()


def _warn_clear_personal(store: CentralStore) -> None:
    from central.backoffice import count_clear

    clear = count_clear(store)
    if clear:
        log.warning(
            "%d transaction(s) hold personal fields received in the clear before sealing: "
            "register the personal-data public key (kiosk-central personal register) to seal "
            "them; until then they are shown to no one",
            clear,
        )


@cli.group()
def kiosk() -> None:
    """Register terminals."""


@kiosk.command("add")
@click.argument("kiosk_id", metavar="ID")
@click.option("--group", "group", metavar="G", help="Fleet group, for configuration rollout.")
@click.option("--rotate", is_flag=True, help="The kiosk exists: replace its token.")
@DB
def kiosk_add(kiosk_id: str, group: str | None, rotate: bool, db_url: str | None) -> None:
    """Register kiosk ID and print its token (shown once; only a hash is stored)."""
    if not re.fullmatch(KIOSK_ID_PATTERN, kiosk_id):
        raise click.BadParameter(
            "1 to 64 of A-Z a-z 0-9 _ . -, starting with a letter or digit", param_hint="ID"
        )
    with opened_store(db_url) as store:
        token = store.add_kiosk(kiosk_id, group, rotate=rotate)
    click.echo(token)


@kiosk.command("rotate")
@click.argument("kiosk_id", metavar="ID")
@DB
def kiosk_rotate(kiosk_id: str, db_url: str | None) -> None:
    """Give kiosk ID a new token and print it (the old one, or a revocation, ends at once)."""
    with opened_store(db_url) as store:
        token = store.add_kiosk(kiosk_id, rotate=True)
    click.echo(token)


@kiosk.command("revoke")
@click.argument("kiosk_id", metavar="ID")
@DB
def kiosk_revoke(kiosk_id: str, db_url: str | None) -> None:
    """Refuse kiosk ID's token from the next request on, on every worker (401).

    What it delivered stays; 'kiosk rotate ID' gives it a new token."""
    with opened_store(db_url) as store:
        store.revoke_kiosk(kiosk_id)
    click.echo(f"revoked {kiosk_id}", err=True)


@cli.command()
@click.option("--kiosk", "kiosk_id", required=True, metavar="ID", help="The kiosk to export.")
@click.option(
    "--personal-key",
    "key_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Open the personal fields with this private key (repeatable for rotated keys); "
    "needs --why, and every opening is audited.",
)
@click.option("--why", help="With --personal-key: why personal data is exported (audited).")
@click.option("--by", metavar="NAME", help="With --personal-key: who (default: the OS user).")
@DB
def export(
    kiosk_id: str, key_files: tuple[Path, ...], why: str | None, by: str | None,
    db_url: str | None,
) -> None:  # fmt: skip
    """Print every transaction received from a kiosk as JSON lines, in seq order.

    Personal fields are left out ("personal": "sealed" says a transaction has some) unless the
    back office opens them with --personal-key and --why."""
    if key_files and not why:
        raise click.UsageError("--personal-key needs --why (it is kept in the audit)")
    if (why or by) and not key_files:
        raise click.UsageError("--why and --by go with --personal-key")
    with opened_store(db_url) as store:
        if not store.kiosk_exists(kiosk_id):
            raise CentralCliError(f"no kiosk {kiosk_id!r}")
        if key_files:
            from central.personal_commands import export_personal

            assert why is not None
            export_personal(store, kiosk_id, key_files, why, by)
            return
        out = sys.stdout.buffer
        for txn in store.iter_transactions(kiosk_id):
            line = {
                "uuid": txn.uuid,
                "seq": txn.seq,
                "service": txn.service,
                "payload": txn.payload,
                "created_at": txn.created_at,
                "received_at": txn.received_at,
            }
            if txn.personal is not None:
                line["personal"] = txn.personal
            out.write(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
        out.flush()


@cli.command("sample-codes")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["application", "appointment"]),
    help="Application-progress codes or appointment check-in codes.",
)
@click.option(
    "--count",
    default=5,
    show_default=True,
    type=click.IntRange(1, 899),
    help="How many codes (serials 1..N).",
)
@click.option(
    "--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
    help="appointment: the day it is for (default today); application: the submission day "
    "(default: code N was submitted N days ago, so the samples span every stage).",
)  # fmt: skip
def sample_codes(kind: str, count: int, day: datetime | None) -> None:
    """Print valid codes the platform answers, one a line (for testers, rigs and QR labels)."""
    from contracts.codes import sample_application_code, sample_appointment_code

    chosen = day.date() if day is not None else None
    try:
        codes = [
            sample_application_code(n, chosen)
            if kind == "application"
            else sample_appointment_code(chosen or date.today(), n)
            for n in range(1, count + 1)
        ]
    except ValueError as exc:  # a date the code format cannot hold (application: 2000-2099)
        raise click.BadParameter(str(exc), param_hint="--date") from exc
    click.echo("\n".join(codes))


def _listen(host: str, port: int) -> socket.socket:
    """Bind and listen before the server starts, so a busy port is a one-line error."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise CentralCliError(f"cannot listen on {host}: {exc.strerror}") from exc
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(512)
    except OSError as exc:
        listener.close()
        raise CentralCliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return listener


def _register_config_commands() -> None:
    from central.bundle_commands import register

    register(cli, DB, opened_store)


_register_config_commands()


def _register_queue_commands() -> None:
    from central.calling_commands import register

    register(cli, DB, opened_store)


_register_queue_commands()


def _register_personal_commands() -> None:
    from central.personal_commands import register

    register(cli, DB, opened_store)


_register_personal_commands()


def _register_slips_commands() -> None:
    from central.slips_commands import register

    register(cli, DB, opened_store)


_register_slips_commands()


def _register_loadtest_command() -> None:
    from central.loadtest_commands import register

    register(cli, DB, opened_store)


_register_loadtest_command()


def _register_kpi_commands() -> None:
    from central.kpi_commands import register

    register(cli, DB, opened_store)


_register_kpi_commands()


def _register_console_commands() -> None:
    from central.console_commands import register

    register(cli, DB, opened_store)


_register_console_commands()


def main(argv: list[str] | None = None) -> int:
    if not logging.getLogger().handlers:
        logging.getLogger().addHandler(logging.NullHandler())
    try:
        cli.main(args=argv, prog_name="kiosk-central", standalone_mode=False)
    except click.UsageError as exc:
        path = exc.ctx.command_path.partition(" ")[2] if exc.ctx else ""
        hint = f" (see 'kiosk-central {path} --help')".replace("  ", " ") if exc.ctx else ""
        click.echo(f"kiosk-central: {exc.format_message()}{hint}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"kiosk-central: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.Abort:
        click.echo("kiosk-central: aborted", err=True)
        return 1
    except (CentralCliError, StoreError, ConfigCliError) as exc:
        click.echo(f"kiosk-central: {exc}", err=True)
        return 1
    except BrokenPipeError:
        # `kiosk-central export ... | head`: the reader left; stop quietly, and keep the
        # interpreter's final flush from complaining about the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the promise: never a traceback on an operator's terminal
        logging.getLogger("central").exception("unexpected error")
        click.echo(f"kiosk-central: unexpected error: {type(exc).__name__}: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
