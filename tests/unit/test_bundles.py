"""Signed configuration bundles: a table of hostile bundles, each refused with its reason; the
parser fuzzed; schema migration; atomic apply and rollback; the applied bundle verified again at
every start."""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.canonical import canonical
from contracts.payload import SCHEMA_VERSION, validate_payload
from contracts.signing import Trust, TrustError, generate, load_private, sign
from contracts.verify import BundleRejected, verify_bundle
from kiosk.config.bundle_store import ConfigStore, ConfigStoreError

NOW = datetime.fromisoformat("2026-11-23T10:00:00+08:00")
CATALOGUE = json.loads(
    (Path(__file__).parents[2] / "kiosk" / "config" / "catalogue.json").read_text()
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    for name in ("alice", "bob", "carol", "mallory"):
        generate(folder, name)
    return folder


@pytest.fixture(scope="module")
def trusted(keys: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trusted")
    for name in ("alice", "bob", "carol"):
        (folder / f"{name}.pub").write_text((keys / f"{name}.pub").read_text())
    (folder / "threshold").write_text("2\n")
    return folder


@pytest.fixture(scope="module")
def trust(trusted: Path) -> Trust:
    return Trust.load(trusted)


def signed_part(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": 5,
        "issued_at": NOW.isoformat(),
        "expires_at": (NOW + timedelta(days=30)).isoformat(),
        "targets": {"kiosks": [], "groups": ["hepingli"]},
        "payload": {"schema_version": SCHEMA_VERSION, "catalogue": CATALOGUE,
                    "timeouts": {"identify": 120}},
    }  # fmt: skip
    body.update(changes)
    return body


def bundle(keys: Path, signers: tuple[str, ...] = ("alice", "bob"), **changes: Any) -> bytes:
    signed = signed_part(**changes)
    sigs = [sign(signed, load_private(keys / f"{n}.key")) for n in signers]
    return json.dumps({"signed": signed, "signatures": sigs}).encode()


def check(data: bytes, trust: Trust, **kw: Any) -> Any:
    args: dict[str, Any] = {"kiosk_id": "kiosk-7", "groups": frozenset({"hepingli"}),
                            "last_version": 4, "now": NOW}  # fmt: skip
    args.update(kw)
    return verify_bundle(data, trust, **args)


def test_a_good_bundle_verifies(keys: Path, trust: Trust) -> None:
    verified = check(bundle(keys), trust)
    assert verified.version == 5
    assert verified.payload.timeouts is not None and verified.payload.timeouts.identify == 120
    catalogue = verified.payload.parsed_catalogue()
    assert catalogue is not None and catalogue.get("queue_ticket") is not None


def _forged(keys: Path) -> bytes:
    doc = json.loads(bundle(keys))
    doc["signed"]["payload"]["timeouts"]["identify"] = 600  # signatures copied from the original
    return json.dumps(doc).encode()


def _other_payload_sigs(keys: Path) -> bytes:
    doc = json.loads(bundle(keys))
    other = json.loads(bundle(keys, version=6))
    doc["signatures"] = other["signatures"]  # valid signatures, but over different content
    return json.dumps(doc).encode()


def _garbled_sig(keys: Path) -> bytes:
    doc = json.loads(bundle(keys))
    doc["signatures"][0]["sig"] = base64.b64encode(b"x" * 64).decode()
    doc["signatures"][1]["sig"] = "not base64!"
    return json.dumps(doc).encode()


HOSTILE = {
    "truncated": (lambda k: bundle(k)[:-20], "malformed"),
    "empty": (lambda k: b"", "malformed"),
    "not utf-8": (lambda k: b"\xff\xfe{}", "malformed"),
    "duplicate keys": (
        lambda k: bundle(k).replace(b'"signed":', b'"signatures": [], "signed":', 1),
        "malformed",
    ),
    "NaN": (lambda k: bundle(k).replace(b'"version": 5', b'"version": NaN'), "malformed"),
    "extra top-level field": (
        lambda k: json.dumps({**json.loads(bundle(k)), "x": 1}).encode(),
        "malformed",
    ),
    "unsigned": (lambda k: bundle(k, ()), "too_few_signatures"),
    "one signature of two": (lambda k: bundle(k, ("alice",)), "too_few_signatures"),
    "same key twice": (lambda k: bundle(k, ("alice", "alice")), "too_few_signatures"),
    "untrusted key": (lambda k: bundle(k, ("alice", "mallory")), "too_few_signatures"),
    "forged content": (_forged, "bad_signature"),
    "signatures over another payload": (_other_payload_sigs, "bad_signature"),
    "garbled signatures": (_garbled_sig, "bad_signature"),
    "expired": (
        lambda k: bundle(k, expires_at=(NOW - timedelta(seconds=1)).isoformat()),
        "expired",
    ),
    "old version": (lambda k: bundle(k, version=3), "old_version"),
    "replayed current version": (lambda k: bundle(k, version=4), "old_version"),
    "wrong target": (
        lambda k: bundle(k, targets={"kiosks": ["kiosk-8"], "groups": ["x"]}),
        "wrong_target",
    ),
    "no offset in time": (lambda k: bundle(k, expires_at="2027-01-01T00:00:00"), "schema_error"),
    "bad timeout": (
        lambda k: bundle(
            k, payload={"schema_version": SCHEMA_VERSION, "timeouts": {"identify": "soon"}}
        ),
        "schema_error",
    ),
    "unknown field": (
        lambda k: bundle(k, payload={"schema_version": SCHEMA_VERSION, "frobnicate": 1}),
        "schema_error",
    ),
    "future schema": (lambda k: bundle(k, payload={"schema_version": 99}), "schema_error"),
    "catalogue without services": (
        lambda k: bundle(k, payload={"schema_version": SCHEMA_VERSION, "catalogue": {}}),
        "schema_error",
    ),
    "receipt QR with a placeholder no receipt fills": (
        lambda k: bundle(
            k, payload={"schema_version": SCHEMA_VERSION, "receipt_qr": "KIOSK:{ticket_no}"}
        ),
        "schema_error",
    ),
    "issued beyond the clock skew": (
        lambda k: bundle(k, issued_at=(NOW + timedelta(minutes=11)).isoformat()),
        "issued_in_future",
    ),
    "valid for ten years": (
        lambda k: bundle(k, expires_at=(NOW + timedelta(days=3650)).isoformat()),
        "too_long",
    ),
    "expires before it is issued": (
        lambda k: bundle(
            k,
            issued_at=(NOW + timedelta(minutes=5)).isoformat(),
            expires_at=(NOW + timedelta(minutes=1)).isoformat(),
        ),
        "schema_error",
    ),
    "a lone surrogate": (
        lambda k: bundle(k).replace(b'"hepingli"', b'"hepingli\\ud800"', 1),
        "malformed",
    ),
    "a number out of range": (
        lambda k: bundle(k).replace(b'"version": 5', b'"version": 1e400'),
        "malformed",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_bundles_are_refused_with_their_reason(keys: Path, trust: Trust, case: str) -> None:
    make, reason = HOSTILE[case]
    with pytest.raises(BundleRejected) as info:
        check(make(keys), trust)
    assert info.value.reason == reason, str(info.value)
    assert "\n" not in str(info.value)


def test_schema_errors_name_the_field(keys: Path, trust: Trust) -> None:
    data = bundle(keys, payload={"schema_version": SCHEMA_VERSION, "timeouts": {"identify": 5}})
    with pytest.raises(BundleRejected, match=r"payload\.timeouts\.identify"):
        check(data, trust)


def test_an_older_schema_is_migrated_forward() -> None:
    payload = validate_payload({"schema_version": 1, "default_language": "en"})
    assert payload.language == "en" and payload.schema_version == SCHEMA_VERSION


def test_trust_needs_a_reachable_threshold(keys: Path, tmp_path: Path) -> None:
    (tmp_path / "alice.pub").write_text((keys / "alice.pub").read_text())
    (tmp_path / "threshold").write_text("2")
    with pytest.raises(TrustError, match="cannot be met"):
        Trust.load(tmp_path)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_refused_cleanly(data: bytes) -> None:
    trust = Trust({}, 1)
    with pytest.raises(BundleRejected):
        verify_bundle(data, trust, kiosk_id="k", now=NOW)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                   max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(signed=json_values, signatures=json_values)
def test_arbitrary_documents_are_refused_cleanly(signed: Any, signatures: Any) -> None:
    trust = Trust({}, 1)
    data = json.dumps({"signed": signed, "signatures": signatures}).encode()
    with pytest.raises(BundleRejected):
        verify_bundle(data, trust, kiosk_id="k", now=NOW)


def test_canonical_form_is_stable() -> None:
    assert canonical({"b": 1, "a": "中"}) == '{"a":"中","b":1}'.encode()


def test_apply_keeps_the_previous_and_rollback_never_reopens_a_version(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path / "config")
    assert store.state().current is None
    store.apply(5, b"five", now=NOW)
    store.apply(6, b"six", now=NOW)
    assert (store.state().current, store.state().previous) == (6, 5)
    assert store.current_bundle() == b"six"
    back = store.rollback(now=NOW)
    assert (back.current, back.previous, back.highest) == (5, None, 6)
    assert store.current_bundle() == b"five"
    with pytest.raises(ConfigStoreError, match="not newer"):
        store.apply(6, b"six again")
    with pytest.raises(ConfigStoreError, match="no previous"):
        store.rollback()


def terminal_settings(tmp_path: Path, trusted: Path) -> Any:
    """kiosk-7 of hepingli, trusting *trusted* (as [central] config_trust would say)."""
    from kiosk.config.settings import load_settings

    local = load_settings(None, tmp_path)
    central = local.central.model_copy(
        update={"kiosk_id": "kiosk-7", "groups": ["hepingli"], "config_trust": trusted}
    )
    return local.model_copy(update={"central": central})


def test_the_applied_bundle_is_laid_over_the_local_configuration(
    keys: Path, trust: Trust, trusted: Path, tmp_path: Path
) -> None:
    from kiosk.config.overlay import with_applied_bundle

    local = terminal_settings(tmp_path, trusted)
    assert with_applied_bundle(local, tmp_path) == (local, None)  # nothing applied yet
    verified = check(bundle(keys), trust)
    ConfigStore(tmp_path / "config").apply(verified.version, verified.raw)
    settings, catalogue = with_applied_bundle(local, tmp_path)
    assert settings.timeouts.identify == 120 and local.timeouts.identify == 90
    assert settings.centre == local.centre  # what the payload leaves out stays local
    assert catalogue is not None and catalogue.get("queue_ticket") is not None
    ConfigStore(tmp_path / "config").bundle_path(5).write_bytes(b"{damaged")
    assert with_applied_bundle(local, tmp_path) == (local, None)


def test_a_tampered_applied_bundle_is_refused_at_start(
    keys: Path, trust: Trust, trusted: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever can write the data directory can edit a stored bundle: the start verifies it
    again, says so in one line, and falls back to the last good configuration."""
    from kiosk.config.overlay import with_applied_bundle

    local = terminal_settings(tmp_path, trusted)
    store = ConfigStore(tmp_path / "config")
    for version, identify in ((5, 120), (6, 150)):
        payload = {"schema_version": SCHEMA_VERSION, "timeouts": {"identify": identify}}
        store.apply(version, check(bundle(keys, version=version, payload=payload), trust).raw)
    assert with_applied_bundle(local, tmp_path)[0].timeouts.identify == 150

    tampered = store.bundle_path(6).read_bytes().replace(b'"identify": 150', b'"identify": 600')
    store.bundle_path(6).write_bytes(tampered)
    with caplog.at_level(logging.ERROR, "kiosk.config.overlay"):
        settings, _ = with_applied_bundle(local, tmp_path)
    assert settings.timeouts.identify == 120  # version 5, which still verifies
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.startswith("applied configuration version 6 refused at start (bad_signature:")
    assert line.endswith("trying the previous version 5")

    store.bundle_path(5).write_bytes(store.bundle_path(5).read_bytes()[:-40])  # and this one
    caplog.clear()
    with caplog.at_level(logging.ERROR, "kiosk.config.overlay"):
        assert with_applied_bundle(local, tmp_path) == (local, None)  # the local configuration
    assert "version 5 refused at start (malformed" in caplog.text
    assert "using the local configuration" in caplog.text


def test_a_key_no_longer_trusted_takes_its_bundle_down_at_start(
    keys: Path, trust: Trust, tmp_path: Path
) -> None:
    from kiosk.config.overlay import with_applied_bundle

    store = ConfigStore(tmp_path / "config")
    store.apply(5, check(bundle(keys), trust).raw)
    rotated = tmp_path / "rotated"  # alice's key withdrawn: bob alone is short of two
    rotated.mkdir()
    for name in ("bob", "carol"):
        (rotated / f"{name}.pub").write_text((keys / f"{name}.pub").read_text())
    (rotated / "threshold").write_text("2\n")
    local = terminal_settings(tmp_path, rotated)
    assert with_applied_bundle(local, tmp_path) == (local, None)


def test_an_applied_bundle_stays_in_force_past_its_expiry(
    keys: Path, trust: Trust, trusted: Path, tmp_path: Path
) -> None:
    """Expiry decides whether a bundle may be applied; once applied it rules until a newer one
    comes (going back to an older configuration would not be any safer)."""
    from kiosk.config.overlay import with_applied_bundle

    store = ConfigStore(tmp_path / "config")
    store.apply(5, check(bundle(keys), trust).raw)  # NOW is long past: it expired since
    settings, _ = with_applied_bundle(terminal_settings(tmp_path, trusted), tmp_path)
    assert settings.timeouts.identify == 120


def test_issue_time_skew_and_validity_are_limits_a_terminal_can_set(
    keys: Path, trust: Trust
) -> None:
    ahead = bundle(keys, issued_at=(NOW + timedelta(minutes=9)).isoformat())
    assert check(ahead, trust).version == 5  # within the default ten minutes
    with pytest.raises(BundleRejected, match="issued_in_future"):
        check(ahead, trust, max_skew=timedelta(minutes=5))
    ninety = bundle(keys, expires_at=(NOW + timedelta(days=90)).isoformat())
    assert check(ninety, trust).version == 5
    with pytest.raises(BundleRejected, match=r"too_long: valid for 90 days, more than the 30"):
        check(ninety, trust, max_validity=timedelta(days=30))


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("KIOSK:{ticket_no}", "unknown placeholder {ticket_no}; allowed: {uuid}, {ticket}"),
        ("KIOSK:{uuid.__class__}", "unknown placeholder {uuid.__class__}"),
        ("KIOSK:{}", "unknown placeholder {}"),
        ("KIOSK:{0}", "unknown placeholder {0}"),
        ("KIOSK:{uuid", "expected '}' before end of string"),
        ("KIOSK:}", "Single '}' encountered"),
        ("KIOSK:{uuid:d}", "cannot be filled in: Unknown format code 'd'"),
        ("KIOSK:{uuid:{ticket}}", "nests another placeholder"),
    ],
)
def test_every_format_string_names_its_bad_placeholder(template: str, error: str) -> None:
    from contracts.payload import FORMAT_STRINGS, SchemaError

    assert set(FORMAT_STRINGS) == {"receipt_qr"}  # the payload's only format string
    with pytest.raises(SchemaError) as info:
        validate_payload({"schema_version": SCHEMA_VERSION, "receipt_qr": template})
    assert info.value.path == "payload.receipt_qr"
    assert error in str(info.value) and "\n" not in str(info.value)


def test_good_format_strings_pass() -> None:
    for template in ("KIOSK-TICKET:{uuid}", "{ticket}|{uuid}", "T:{ticket:>6} {{literal}}"):
        assert validate_payload({"schema_version": 2, "receipt_qr": template}).receipt_qr


def test_a_local_receipt_qr_is_checked_like_a_bundles(tmp_path: Path) -> None:
    from kiosk.config.settings import SettingsError, load_settings

    config = tmp_path / "kiosk.toml"
    config.write_text('receipt_qr = "KIOSK:{ticket_no}"\n')
    with pytest.raises(SettingsError, match=r"receipt_qr: .*unknown placeholder \{ticket_no\}"):
        load_settings(config, tmp_path)


def test_the_terminals_limits_default_to_the_contracts() -> None:
    from contracts.verify import MAX_CLOCK_SKEW, MAX_VALIDITY
    from kiosk.config.settings import CentralSettings

    central = CentralSettings()
    assert central.config_clock_skew == MAX_CLOCK_SKEW.total_seconds() == 600
    assert central.config_max_days == MAX_VALIDITY.days == 90


def test_nesting_beyond_the_limit_is_refused() -> None:
    from contracts.canonical import MAX_DEPTH, CanonicalError, strict_loads

    fine = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert strict_loads(fine) is not None
    with pytest.raises(CanonicalError, match="nested deeper"):
        strict_loads(b'{"a":' * (MAX_DEPTH + 2) + b"1" + b"}" * (MAX_DEPTH + 2))
