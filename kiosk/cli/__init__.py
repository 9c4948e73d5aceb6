"""The ``kiosk`` command line (DESIGN.md's CLI contract): ``main()`` around the group ``cli``,
whose command modules are imported when a command is asked for (``common.py``).

Exit codes: 0 ok, 1 failure, 2 usage. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import logging
import sys


def main(argv: list[str] | None = None) -> int:
    # Drivers log their faults; on the command line the one-line error says it, so log records
    # go nowhere unless a command sets up logging (run writes them to the data directory).
    if not logging.getLogger().handlers:
        logging.getLogger().addHandler(logging.NullHandler())
    from kiosk.cli import quick_run

    plain_run = quick_run.parse(sys.argv[1:] if argv is None else argv)
    if plain_run is not None:
        return quick_run.run(plain_run)
    import click

    # The command modules add their commands to ``cli`` when it first asks for them (common.py).
    from kiosk.cli.common import cli
    from kiosk.errors import KioskError

    try:
        cli.main(args=argv, prog_name="kiosk", standalone_mode=False)
    except click.UsageError as exc:
        hint = (
            f" (see 'kiosk {exc.ctx.command_path.partition(' ')[2]} --help')".replace("  ", " ")
            if exc.ctx
            else ""
        )
        click.echo(f"kiosk: {exc.format_message()}{hint}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"kiosk: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.Abort:
        click.echo("kiosk: aborted", err=True)
        return 1
    except KioskError as exc:
        click.echo(f"kiosk: {exc}", err=True)
        return 1
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the promise: never a traceback on a technician's terminal
        logging.getLogger("kiosk").exception("unexpected error")
        click.echo(f"kiosk: unexpected error: {type(exc).__name__}: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
