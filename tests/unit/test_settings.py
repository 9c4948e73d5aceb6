"""Settings: defaults that run simulated, a TOML file, the environment, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.device_kinds import DeviceKind
from kiosk.config.settings import SettingsError, load_settings


def test_defaults_run_on_simulators(tmp_path: Path) -> None:
    st = load_settings(data_dir=tmp_path)
    assert st.data_dir == tmp_path
    assert {k: v["driver"] for k, v in st.device_config().items()} == dict.fromkeys(
        DeviceKind, "sim"
    )
    assert st.timeouts.warning >= 20


def test_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        '[central]\nurl = "https://file"\nkiosk_id = "from-file"\n'
        '[devices.receipt_printer]\ndriver = "escpos-file"\npath = "/dev/usb/lp0"\n'
        "[timeouts]\nconfirm = 45\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KIOSK_ID", "from-env")
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "env-data"))
    st = load_settings(cfg)
    assert st.central.url == "https://file"
    assert st.central.kiosk_id == "from-env"
    assert st.data_dir == tmp_path / "env-data"
    assert st.timeouts.confirm == 45
    assert st.device_config()[DeviceKind.RECEIPT_PRINTER] == {
        "driver": "escpos-file",
        "path": "/dev/usb/lp0",
    }
    assert st.simulated().device_config()[DeviceKind.RECEIPT_PRINTER]["driver"] == "sim"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("language = [", "not valid TOML"),
        ('language = "fr"', "language"),
        ("[timeouts]\nconfirm = 10", "timeouts.confirm"),
        ("[timeouts]\nwarning = 5", "timeouts.warning"),
        ("[devices.printer]\ndriver = 'sim'", "unknown device section"),
        ("surprise = 1", "surprise"),
        ("central = 3", "central"),
    ],
)
def test_bad_configuration_is_one_clear_line(tmp_path: Path, content: str, message: str) -> None:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings(cfg, data_dir=tmp_path)
    text = str(info.value)
    assert message in text and "\n" not in text and str(cfg) in text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(tmp_path / "nope.toml")


def test_outbox_settings_reach_the_store(tmp_path: Path) -> None:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text("[outbox]\nretention_days = 30\nmax_mb = 64\n")
    settings = load_settings(cfg, tmp_path / "data")
    store = settings.open_outbox(tmp_path / "data" / "kiosk.db")
    assert store.max_bytes == 64 * 1024 * 1024 and store.retention.days == 30
    store.close()
    cfg.write_text("[outbox]\nmax_mb = 1\n")
    with pytest.raises(SettingsError, match="max_mb"):
        load_settings(cfg, tmp_path / "data")
