"""A terminal without a platform url starts the embedded platform only where asked: under
--simulate, or with [central] embedded = true. A production configuration that forgot its url
works offline on its outbox and says so, instead of delivering to itself."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kiosk.cli.common import cli
from kiosk.config.settings import load_settings


def config(tmp_path: Path, central: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f"[central]\n{central}\n", "utf-8")
    return path


def test_no_url_means_no_platform_unless_asked(tmp_path: Path) -> None:
    production = load_settings(data_dir=tmp_path)
    assert production.central.url is None and production.central.embedded is False
    assert production.simulated().central.embedded is True  # trying it out
    asked = load_settings(config(tmp_path, "embedded = true"), tmp_path)
    assert asked.central.embedded is True
    refused = load_settings(config(tmp_path, "embedded = false"), tmp_path)
    assert refused.simulated().central.embedded is False  # said so, even when simulating


def test_queue_status_says_where_delivery_goes(tmp_path: Path) -> None:
    runner = CliRunner()
    offline = runner.invoke(cli, ["queue", "status", "--data-dir", str(tmp_path)])
    assert offline.exit_code == 0, offline.output
    assert (
        "platform: none configured ([central] url): working offline, transactions wait here"
        in offline.output
    )
    embedded = runner.invoke(
        cli,
        ["queue", "status", "--data-dir", str(tmp_path),
         "--config", str(config(tmp_path, "embedded = true"))],
    )  # fmt: skip
    assert "platform: the embedded platform on this machine" in embedded.output
