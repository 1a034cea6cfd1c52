"""The patched Firestore stand-in isolates transactions the way Firestore's optimistic mode does, and enforces
preconditions, through the real Python client (see patches/@firestore-emulator+server+0.3.15.patch).

A read inside a transaction is recorded with the document's revision (a query with its result); the commit answers
ABORTED when any of them changed since, and the client library retries the transaction."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter


def test_concurrent_read_modify_write_increments_lose_nothing(firestore_client: firestore.Client) -> None:
    counter = firestore_client.collection("counters").document("shared")
    counter.set({"n": 0})
    errors: list[BaseException] = []

    def increment_ten_times() -> None:
        for _ in range(10):

            @firestore.transactional
            def increment(transaction: firestore.Transaction) -> None:
                snapshot = counter.get(transaction=transaction)
                transaction.update(counter, {"n": snapshot.get("n") + 1})

            try:
                # Optimistic transactions under this much contention need more than the default five attempts.
                increment(firestore_client.transaction(max_attempts=100))
            except BaseException as error:  # collected and reported by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=increment_ten_times) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert counter.get().get("n") == 40  # the unpatched stand-in ended near 19


def test_a_write_between_read_and_commit_aborts_the_commit_and_the_client_retries(
    firestore_client: firestore.Client,
) -> None:
    account = firestore_client.collection("accounts").document("retry")
    account.set({"n": 0})
    seen: list[int] = []

    @firestore.transactional
    def bump(transaction: firestore.Transaction) -> None:
        value = account.get(transaction=transaction).get("n")
        seen.append(value)
        if len(seen) == 1:
            account.update({"n": 100})  # another writer, outside the transaction
        transaction.update(account, {"n": value + 1})

    bump(firestore_client.transaction())
    assert seen == [0, 100], "the first commit is aborted and the retry reads the other writer's value"
    assert account.get().get("n") == 101


def test_the_commit_itself_answers_aborted(firestore_client: firestore.Client) -> None:
    account = firestore_client.collection("accounts").document("aborted")
    account.set({"n": 0})
    transaction = firestore_client.transaction(max_attempts=1)

    @firestore.transactional
    def bump(inner: firestore.Transaction) -> None:
        value = account.get(transaction=inner).get("n")
        account.update({"n": 7})
        inner.update(account, {"n": value + 1})

    with pytest.raises(ValueError, match="attempts") as raised:
        bump(transaction)
    assert isinstance(raised.value.__cause__, exceptions.Aborted)
    assert account.get().get("n") == 7, "the aborted commit wrote nothing"


def test_a_query_read_in_a_transaction_aborts_when_its_result_changes(firestore_client: firestore.Client) -> None:
    sessions = firestore_client.collection("sessions_query")
    active = sessions.where(filter=FieldFilter("user_id", "==", "u1")).where(filter=FieldFilter("status", "==", "on"))
    counts: list[int] = []

    @firestore.transactional
    def open_one(transaction: firestore.Transaction) -> None:
        live = len(list(transaction.get(active)))
        counts.append(live)
        if len(counts) == 1:
            sessions.document("other").set({"user_id": "u1", "status": "on"})  # a concurrent admission
        if live < 2:
            transaction.set(sessions.document(f"mine-{len(counts)}"), {"user_id": "u1", "status": "on"})

    open_one(firestore_client.transaction())
    assert counts == [0, 1]


def test_a_read_only_transaction_is_not_aborted_by_later_writes(firestore_client: firestore.Client) -> None:
    document = firestore_client.collection("accounts").document("read-only")
    document.set({"n": 1})
    reads = 0

    @firestore.transactional
    def read(transaction: firestore.Transaction) -> Any:
        nonlocal reads
        reads += 1
        value = document.get(transaction=transaction).get("n")
        document.update({"n": 2})
        return value

    assert read(firestore_client.transaction(read_only=True)) == 1
    assert reads == 1


def test_update_time_preconditions_are_enforced(firestore_client: firestore.Client) -> None:
    document = firestore_client.collection("preconditions").document("update-time")
    document.set({"n": 1})
    before = document.get().update_time
    document.update({"n": 2}, option=firestore_client.write_option(last_update_time=before))
    with pytest.raises(exceptions.FailedPrecondition):
        document.update({"n": 3}, option=firestore_client.write_option(last_update_time=before))
    assert document.get().get("n") == 2


def test_exists_preconditions_are_enforced(firestore_client: firestore.Client) -> None:
    collection = firestore_client.collection("preconditions")
    collection.document("exists").create({"n": 1})
    with pytest.raises(exceptions.Conflict):
        collection.document("exists").create({"n": 2})
    with pytest.raises(exceptions.NotFound):
        collection.document("missing").update({"n": 1})
    assert collection.document("exists").get().get("n") == 1
    assert not collection.document("missing").get().exists


def test_a_commit_applies_all_its_writes_or_none(firestore_client: firestore.Client) -> None:
    collection = firestore_client.collection("atomic")
    collection.document("taken").set({"n": 1})
    batch = firestore_client.batch()
    batch.set(collection.document("first"), {"n": 1})
    batch.create(collection.document("taken"), {"n": 2})
    with pytest.raises(exceptions.Conflict):
        batch.commit()
    assert not collection.document("first").get().exists
    assert collection.document("taken").get().get("n") == 1


def test_set_replaces_the_document_and_delete_field_removes_fields(firestore_client: firestore.Client) -> None:
    document = firestore_client.collection("fields").document("one")
    document.set({"a": 1, "b": 2, "nested": {"x": 1, "y": 2}})
    document.update({"b": firestore.DELETE_FIELD, "nested.y": firestore.DELETE_FIELD})
    assert document.get().to_dict() == {"a": 1, "nested": {"x": 1}}
    document.set({"c": 3})
    assert document.get().to_dict() == {"c": 3}
    document.set({"d": 4}, merge=True)
    assert document.get().to_dict() == {"c": 3, "d": 4}


def test_update_times_strictly_increase_even_within_one_millisecond(firestore_client: firestore.Client) -> None:
    document = firestore_client.collection("fields").document("clock")
    times = []
    for n in range(20):
        times.append(document.set({"n": n}).update_time)
    assert all(later > earlier for earlier, later in itertools.pairwise(times))
