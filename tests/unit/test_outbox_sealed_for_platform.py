"""The terminal's side of sealing to the platform: personal fields leave only sealed to the
platform's personal-data key, once (every resend the same bytes), and wait without it; from
the first send on, the terminal itself can no longer open them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts.personal import PersonalKey, PersonalSealError, SealedPersonal, open_sealed
from offline.http import Response
from offline.outbox import OutboxError, OutboxStore
from offline.sync import SyncClient
from tests.unit.test_purge import PERSON, on_disk, openable, plaintext_anywhere, sealed_length

BACK_OFFICE = X25519PrivateKey.generate()
PLATFORM_KEY = PersonalKey.of(BACK_OFFICE.public_key())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OutboxStore]:
    st = OutboxStore(tmp_path / "kiosk.db")
    yield st
    st.close()


def test_after_the_first_send_nothing_on_disk_opens_with_the_outbox_key(
    store: OutboxStore, tmp_path: Path
) -> None:
    recs = [store.record("feedback", {"n": n}, personal=PERSON) for n in range(5)]
    uuids = [r.uuid for r in recs]
    key = (tmp_path / "keys" / "outbox.key").read_bytes()
    length = sealed_length(PERSON)
    assert sorted(openable(on_disk(tmp_path), key, uuids, length)) == sorted(uuids)  # the probe

    batch = store.take_batch(10, seal_to=PLATFORM_KEY)  # in flight, not even acknowledged
    assert [open_sealed(BACK_OFFICE, item.sealed, item.uuid) for item in batch if item.sealed] == [
        PERSON
    ] * 5
    store.close()
    raw = on_disk(tmp_path)
    assert openable(raw, key, uuids, length) == []  # the local seal is gone, bytes and all
    assert plaintext_anywhere(raw) == []


def test_without_the_platform_key_personal_records_wait_and_the_others_go(
    store: OutboxStore,
) -> None:
    plain = store.record("queue_ticket", {"n": 1})
    personal = store.record("feedback", {"n": 2}, personal=PERSON)
    after = store.record("queue_ticket", {"n": 3})
    assert [i.uuid for i in store.take_batch(10)] == [plain.uuid, after.uuid]
    status = store.status()
    assert status.unsealed_waiting == 1 and status.waiting == 3
    (item,) = [i for i in store.take_batch(10, seal_to=PLATFORM_KEY) if i.uuid == personal.uuid]
    assert item.payload == {"n": 2} and item.sealed is not None
    assert store.status().unsealed_waiting == 0


def test_a_record_sealed_to_one_key_keeps_it_after_a_rotation(store: OutboxStore) -> None:
    rec = store.record("feedback", {}, personal=PERSON)
    (first,) = store.take_batch(10, seal_to=PLATFORM_KEY)
    store.release([first.seq])  # the request failed: it goes again later
    rotated = PersonalKey.of(X25519PrivateKey.generate().public_key())
    (again,) = store.take_batch(10, seal_to=rotated)
    assert again.sealed == first.sealed and again.sealed is not None
    assert again.sealed.key_id == PLATFORM_KEY.key_id  # the record says which key opens it
    assert open_sealed(BACK_OFFICE, again.sealed, rec.uuid) == PERSON


def test_a_sealed_part_opens_only_for_its_own_record(store: OutboxStore) -> None:
    one = store.record("feedback", {}, personal=PERSON)
    other = store.record("feedback", {}, personal={"name": "李建国"})
    first, second = store.take_batch(10, seal_to=PLATFORM_KEY)
    assert first.sealed is not None and second.sealed is not None
    with pytest.raises(PersonalSealError, match="sealed for another record"):
        open_sealed(BACK_OFFICE, first.sealed, other.uuid)
    assert open_sealed(BACK_OFFICE, second.sealed, other.uuid) == {"name": "李建国"}
    assert one.uuid == first.uuid


def test_two_senders_at_once_send_one_sealed_form(tmp_path: Path) -> None:
    """`kiosk queue sync` beside the running terminal: both take the same row and seal it; the
    one stored first is what both send, or the second one's resend would be a conflict."""
    first = OutboxStore(tmp_path / "kiosk.db")
    first.record("feedback", {}, personal=PERSON)
    second = OutboxStore(tmp_path / "kiosk.db")
    barrier = threading.Barrier(2)
    taken: list[Any] = []

    def take(box: OutboxStore) -> None:
        barrier.wait()
        taken.extend(box.take_batch(10, seal_to=PLATFORM_KEY))

    threads = [threading.Thread(target=take, args=(box,)) for box in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 2 and taken[0].sealed == taken[1].sealed
    (third,) = first.take_batch(10)
    assert third.sealed == taken[0].sealed
    first.close()
    second.close()


def test_personal_fields_too_large_to_seal_are_refused_when_recorded(store: OutboxStore) -> None:
    with pytest.raises(OutboxError, match=r"personal fields are .* bytes of JSON"):
        store.record("feedback", {}, personal={"text": "x" * 20_000})
    assert store.status().total == 0


def test_the_client_sends_the_sealed_part_beside_a_clean_payload(
    store: OutboxStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = store.record("feedback", {"has_text": True}, personal=PERSON)
    sent: list[dict[str, Any]] = []

    def fake_post(url: str, body: dict[str, Any], **_: Any) -> Response:
        sent.append(body)
        return Response(200, {"results": [{"uuid": i["uuid"], "status": "accepted"}
                                          for i in body["items"]]})  # fmt: skip

    monkeypatch.setattr("offline.sync.post_json", fake_post)
    client = SyncClient(store, "http://127.0.0.1:9", "k", "t", personal_key=lambda: None)
    assert client.push().awaiting_key == 1 and sent == []
    client.personal_key = lambda: PLATFORM_KEY
    result = client.push()
    assert (result.acknowledged, result.awaiting_key) == (1, 0)
    (item,) = sent[0]["items"]
    assert item["payload"] == {"has_text": True} and "张秀英" not in repr(sent)
    assert item["sealed"]["key_id"] == PLATFORM_KEY.key_id
    assert open_sealed(BACK_OFFICE, SealedPersonal(**item["sealed"]), rec.uuid) == PERSON
