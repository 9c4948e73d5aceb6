"""TLS between terminal and platform, with a throwaway CA (trustme): a real ``kiosk-central serve
--tls-cert --tls-key`` process; the terminal's sync client and online-query client verify it
against ``[central] ca_file``; a wrong CA, an expired certificate, a host name the certificate
does not cover and plain http off loopback are refused, in words a technician can act on. A TLS
failure is a transient error the outbox survives: nothing lost, nothing marked delivered."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts.personal import PersonalKey
from kiosk.config.settings import Settings, SettingsError, load_settings
from kiosk.platform_link.syncing import make_client
from offline.http import PlatformTrustError, is_loopback
from offline.outbox import OutboxStore
from offline.services_client import ServiceQueryClient
from offline.sync import SyncClient, TransientError
from tests.central.test_online_services import id_number
from tests.platform_process import central, platform_process, stop_server

KIOSK = "kiosk-tls-001"
PLATFORM_KEY = PersonalKey.of(X25519PrivateKey.generate().public_key())


@dataclass(frozen=True)
class Pki:
    ca: Path  # the fleet's CA, as a terminal's ca_file
    other_ca: Path  # a CA that signed nothing of the platform's
    cert: Path  # the platform's chain, for 127.0.0.1 only
    key: Path
    expired_cert: Path  # same CA, same name, not_after in the past
    expired_key: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca, other = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    other.cert_pem.write_to_path(str(folder / "other-ca.pem"))
    # Only the address: https://localhost then names a host the certificate does not cover.
    leaf = ca.issue_cert("127.0.0.1")
    now = datetime.now(UTC)
    expired = ca.issue_cert(
        "127.0.0.1", not_before=now - timedelta(days=60), not_after=now - timedelta(days=1)
    )
    for name, cert in (("platform", leaf), ("expired", expired)):
        for i, pem in enumerate(cert.cert_chain_pems):
            pem.write_to_path(str(folder / f"{name}.pem"), append=i > 0)
        cert.private_key_pem.write_to_path(str(folder / f"{name}.key"))
    return Pki(
        folder / "ca.pem",
        folder / "other-ca.pem",
        folder / "platform.pem",
        folder / "platform.key",
        folder / "expired.pem",
        folder / "expired.key",
    )


@dataclass(frozen=True)
class Served:
    url: str
    port: int
    db_url: str
    token: str

    def delivered(self) -> list[str]:
        out = central("export", "--kiosk", KIOSK, "--db", self.db_url)
        return [line for line in out.splitlines() if line.strip()]


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "central", "serve", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@contextmanager
def tls_platform(folder: Path, cert: Path, key: Path) -> Iterator[Served]:
    folder.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{folder / 'central.db'}"
    token = central("kiosk", "add", KIOSK, "--db", db_url).strip().splitlines()[-1]
    with (folder / "central.log").open("a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "central", "serve", "--db", db_url, "--port", "0",
             "--tls-cert", str(cert), "--tls-key", str(key)],
            stdout=subprocess.PIPE, stderr=log, text=True,
        )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on https://127.0.0.1:"), line
        url = line.removeprefix("listening on ")
        yield Served(url, int(url.rpartition(":")[2]), db_url, token)
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def platform(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with tls_platform(tmp_path_factory.mktemp("central"), pki.cert, pki.key) as served:
        yield served


def _settings(tmp_path: Path, url: str, token: str = "t", **central: object) -> Settings:
    lines = [f'url = "{url}"', f'kiosk_id = "{KIOSK}"', f'token = "{token}"']
    for name, value in central.items():
        lines.append(f"{name} = " + (f'"{value}"' if isinstance(value, Path | str) else "true"))
    config = tmp_path / "kiosk.toml"
    config.write_text("[central]\n" + "\n".join(lines) + "\n")
    return load_settings(config, data_dir=tmp_path / "data")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OutboxStore]:
    st = OutboxStore(tmp_path / "terminal" / "kiosk.db")
    yield st
    st.close()


def _sync_client(store: OutboxStore, settings: Settings) -> SyncClient:
    client = make_client(store, settings)
    assert client is not None
    # The platform's personal-data key, as a signed configuration would bring it: without it
    # records with personal fields wait (tests/integration/test_personal_end_to_end.py).
    client.personal_key = lambda: PLATFORM_KEY
    return client


# -- the platform's side ------------------------------------------------------------------------


def test_serve_says_https_and_refuses_plain_http(platform: Served) -> None:
    assert platform.url == f"https://127.0.0.1:{platform.port}"
    client = ServiceQueryClient(f"http://127.0.0.1:{platform.port}", KIOSK, platform.token)
    with pytest.raises(TransientError):  # a TLS port does not speak http
        client.query("housing_fund", id_number())


def test_https_to_a_plain_http_platform_says_so(tmp_path: Path) -> None:
    with platform_process(tmp_path) as plain:
        url = plain.url.replace("http://", "https://")
        client = ServiceQueryClient(url, plain.kiosk_id, plain.token)
        with pytest.raises(TransientError, match=r"is the platform serving https\?"):
            client.query("housing_fund", id_number())


def test_serve_names_a_missing_or_unusable_file_in_one_line(pki: Pki, tmp_path: Path) -> None:
    db = ("--db", f"sqlite:///{tmp_path / 'c.db'}", "--port", "0")
    missing = _serve(*db, "--tls-cert", str(tmp_path / "none.pem"), "--tls-key", str(pki.key))
    assert missing.returncode == 1
    assert missing.stderr == (
        f"kiosk-central: serve: --tls-cert {tmp_path / 'none.pem'}: cannot read "
        "(No such file or directory)\n"
    )
    not_pem = _serve(*db, "--tls-cert", str(pki.key), "--tls-key", str(pki.key))
    assert not_pem.returncode == 1
    assert (
        not_pem.stderr.strip()
        == f"kiosk-central: serve: --tls-cert {pki.key}: no PEM certificate in it"
    )
    mismatch = _serve(*db, "--tls-cert", str(pki.cert), "--tls-key", str(pki.expired_key))
    assert mismatch.returncode == 1
    assert "is not the key of --tls-cert" in mismatch.stderr
    assert len(mismatch.stderr.splitlines()) == 1
    alone = _serve(*db, "--tls-cert", str(pki.cert))
    assert alone.returncode == 2
    assert "--tls-cert and --tls-key go together" in alone.stderr
    if os.geteuid() != 0:  # root reads whatever the mode says
        unreadable = tmp_path / "unreadable.key"
        unreadable.write_bytes(pki.key.read_bytes())
        unreadable.chmod(0)
        denied = _serve(*db, "--tls-cert", str(pki.cert), "--tls-key", str(unreadable))
        assert denied.returncode == 1
        assert "cannot read (Permission denied)" in denied.stderr
    assert not (tmp_path / "c.db").exists()  # refused before anything opened


# -- the terminal's side ------------------------------------------------------------------------


def test_the_right_ca_delivers_and_answers(
    platform: Served, pki: Pki, store: OutboxStore, tmp_path: Path
) -> None:
    recs = [store.record("queue_ticket", {"n": n}) for n in range(3)]
    settings = _settings(tmp_path, platform.url, platform.token, ca_file=pki.ca)
    result = _sync_client(store, settings).push()
    assert (result.sent, result.acknowledged) == (3, 3)
    assert store.status().by_state["acknowledged"] == 3
    assert sum(rec.uuid in line for line in platform.delivered() for rec in recs) == 3
    # Built from the url alone (as the visit's controller does): trusts what make_client set.
    answer = ServiceQueryClient(platform.url, KIOSK, platform.token).query(
        "housing_fund", id_number()
    )
    assert answer.status in ("ok", "not_found", "refused")
    # Or given the CA itself.
    explicit = ServiceQueryClient(platform.url, KIOSK, platform.token, ca_file=pki.ca)
    assert explicit.query("housing_fund", id_number()).status == answer.status


def test_a_wrong_ca_is_refused_and_the_outbox_keeps_everything(
    platform: Served, pki: Pki, store: OutboxStore, tmp_path: Path
) -> None:
    recs = [store.record("feedback", {"n": n}, personal={"phone": "13800138000"}) for n in range(4)]
    before = len(platform.delivered())
    wrong = _settings(tmp_path, platform.url, platform.token, ca_file=pki.other_ca)
    with pytest.raises(TransientError) as refused:
        _sync_client(store, wrong).push()
    assert str(refused.value) == (
        f"127.0.0.1:{platform.port}: the platform's certificate is not trusted: unable to get "
        "local issuer certificate (check [central] ca_file and the platform's certificate)"
    )
    status = store.status()
    assert status.waiting == 4 and status.by_state.get("acknowledged", 0) == 0
    assert len(platform.delivered()) == before  # the handshake failed before any byte of data
    with pytest.raises(TransientError, match="not trusted"):
        ServiceQueryClient(platform.url, KIOSK, platform.token).query("housing_fund", id_number())

    # The technician fixes ca_file: everything that waited goes, once.
    right = _settings(tmp_path, platform.url, platform.token, ca_file=pki.ca)
    assert _sync_client(store, right).push().acknowledged == 4
    delivered = platform.delivered()
    assert [sum(r.uuid in line for line in delivered) for r in recs] == [1, 1, 1, 1]


def test_the_system_store_does_not_trust_a_private_ca(
    platform: Served, store: OutboxStore, tmp_path: Path
) -> None:
    store.record("queue_ticket", {"n": 1})
    settings = _settings(tmp_path, platform.url, platform.token)  # no ca_file
    with pytest.raises(TransientError, match="certificate is not trusted"):
        _sync_client(store, settings).push()
    assert store.status().waiting == 1


def test_an_expired_certificate_is_refused(pki: Pki, store: OutboxStore, tmp_path: Path) -> None:
    with tls_platform(tmp_path / "central", pki.expired_cert, pki.expired_key) as expired:
        store.record("queue_ticket", {"n": 1})
        settings = _settings(tmp_path, expired.url, expired.token, ca_file=pki.ca)
        with pytest.raises(TransientError, match="not trusted: certificate has expired"):
            _sync_client(store, settings).push()
        assert store.status().waiting == 1
        assert expired.delivered() == []
        with pytest.raises(TransientError, match="certificate has expired"):
            ServiceQueryClient(expired.url, KIOSK, expired.token, ca_file=pki.ca).query(
                "housing_fund", id_number()
            )


def test_a_host_name_the_certificate_does_not_cover_is_refused(
    platform: Served, pki: Pki, store: OutboxStore, tmp_path: Path
) -> None:
    store.record("queue_ticket", {"n": 1})
    url = f"https://localhost:{platform.port}"  # the certificate names 127.0.0.1 only
    settings = _settings(tmp_path, url, platform.token, ca_file=pki.ca)
    with pytest.raises(TransientError, match="not trusted: Hostname mismatch"):
        _sync_client(store, settings).push()
    assert store.status().waiting == 1
    with pytest.raises(TransientError, match="Hostname mismatch"):
        ServiceQueryClient(url, KIOSK, platform.token, ca_file=pki.ca).query(
            "housing_fund", id_number()
        )


# -- plain http and broken CA files: refused when settings load or a client is built ------------


def test_plain_http_off_loopback_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        _settings(tmp_path, "http://192.0.2.10:8700")
    assert str(refused.value) == (
        f"{tmp_path / 'kiosk.toml'}: central: url http://192.0.2.10:8700 is plain http to a host "
        "that is not loopback: the token, ID numbers and feedback would cross the network "
        "readable; use https (with [central] ca_file), or set [central] allow_insecure = true"
    )
    with pytest.raises(PlatformTrustError, match=r"allow_insecure = true"):
        ServiceQueryClient("http://platform.example:8700", KIOSK, "t")
    # Said so: a lab, or a tunnel that terminates TLS on this machine.
    allowed = _settings(tmp_path, "http://192.0.2.10:8700", allow_insecure=True)
    assert allowed.central.allow_insecure
    store = OutboxStore(tmp_path / "kiosk.db")
    try:
        assert make_client(store, allowed) is not None
    finally:
        store.close()
    # ... which then holds for the queries built from the url alone.
    ServiceQueryClient("http://192.0.2.10:8700", KIOSK, "t")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8700", "http://127.8.9.10", "http://localhost:8700", "http://[::1]:1"]
)
def test_plain_http_on_loopback_stays_allowed(tmp_path: Path, url: str) -> None:
    # The embedded platform of `kiosk run --simulate` is on loopback, over http.
    assert _settings(tmp_path, url).central.url == url
    ServiceQueryClient(url, KIOSK, "t")


def test_what_counts_as_loopback() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.255.0.1", "::1", "localhost", "LOCALHOST."]))
    assert not any(
        map(is_loopback, ["10.0.0.1", "192.0.2.10", "platform", "localhost.example", "::ffff:1"])
    )


def test_a_ca_file_that_cannot_serve_is_refused_when_settings_load(tmp_path: Path) -> None:
    url = "https://platform.example"
    with pytest.raises(
        SettingsError, match=r"central\.ca_file: .*none\.pem: cannot read \(No such"
    ):
        _settings(tmp_path, url, ca_file=tmp_path / "none.pem")
    for content in ("", "not a certificate\n"):
        (tmp_path / "bad.pem").write_text(content)  # empty must not mean "the system's store"
        with pytest.raises(SettingsError, match=r"bad\.pem: no CA certificate in it"):
            _settings(tmp_path, url, ca_file=tmp_path / "bad.pem")


def test_the_commands_a_technician_runs_say_it_in_one_line(
    platform: Served, pki: Pki, tmp_path: Path
) -> None:
    data = tmp_path / "data"

    def kiosk(*args: str, config: str) -> subprocess.CompletedProcess[str]:
        (tmp_path / "kiosk.toml").write_text(config)
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        return subprocess.run(
            [sys.executable, "-m", "kiosk", *args, "--config", str(tmp_path / "kiosk.toml"),
             "--data-dir", str(data)],
            capture_output=True, text=True, timeout=60, check=False, env=env,
        )  # fmt: skip

    base = f'[central]\nkiosk_id = "{KIOSK}"\ntoken = "{platform.token}"\n'
    insecure = base + 'url = "http://192.0.2.10:8700"\n'
    for command in (("queue", "sync", "--once"), ("run", "--simulate", "--windowed")):
        refused = kiosk(*command, config=insecure)
        assert refused.returncode == 1, refused.stderr
        (line,) = refused.stderr.splitlines()
        assert line.startswith("kiosk: ") and "set [central] allow_insecure = true" in line

    enqueue = [sys.executable, "-m", "kiosk", "queue", "enqueue", "--data-dir", str(data),
               "--service", "queue_ticket", "--payload", '{"n": 1}']  # fmt: skip
    subprocess.run(enqueue, check=True, capture_output=True, timeout=60)
    https = base + f'url = "{platform.url}"\n'
    wrong = kiosk("queue", "sync", "--once", config=https + f'ca_file = "{pki.other_ca}"\n')
    assert wrong.returncode == 1
    (line,) = wrong.stderr.splitlines()
    assert "certificate is not trusted" in line and line.endswith("(1 still waiting)")
    right = kiosk("queue", "sync", "--once", config=https + f'ca_file = "{pki.ca}"\n')
    assert right.returncode == 0, right.stderr
    assert right.stdout.strip() == "sent 1, acknowledged 1, dead 0, 0 waiting"
