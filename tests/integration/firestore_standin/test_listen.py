"""Listening on the patched Firestore stand-in, through the real Python client: a raw Listen stream (the library's
own gRPC client) with several targets added and removed, and ``on_snapshot``.

A target hears only about writes to documents it can match (its project, database and collection, or its document
paths) and is sent only what changed: nothing at all when its result did not change."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.types import ListenRequest, ListenResponse, Target, TargetChange

from tests.integration.trips.support import wait_for

ChangeType = TargetChange.TargetChangeType


class RawListen:
    """One Listen stream: requests are sent as they are put, responses are kept as (kind, detail) pairs."""

    def __init__(self, client: firestore.Client) -> None:
        self.client = client
        self.requests: queue.Queue[ListenRequest | None] = queue.Queue()
        self.responses: list[tuple[str, Any]] = []
        # The library's stream waits for its first response when it is opened, so it is opened by the reader.
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _requests(self) -> Iterator[ListenRequest]:
        while (request := self.requests.get()) is not None:
            yield request

    def _read(self) -> None:
        try:
            stream = self.client._firestore_api.listen(requests=self._requests(), metadata=self.client._rpc_metadata)
            for response in stream:
                self.responses.append(describe(response))
        except Exception as error:  # the stream ends with CANCELLED when the test closes it
            self.responses.append(("closed", type(error).__name__))

    def add_query(self, target_id: int, query: firestore.Query) -> None:
        parent = f"{self.client._database_string}/documents"
        target = Target(
            target_id=target_id, query=Target.QueryTarget(parent=parent, structured_query=query._to_protobuf())
        )
        self.requests.put(ListenRequest(database=self.client._database_string, add_target=target))

    def add_documents(self, target_id: int, *references: firestore.DocumentReference) -> None:
        paths = [reference._document_path for reference in references]
        target = Target(target_id=target_id, documents=Target.DocumentsTarget(documents=paths))
        self.requests.put(ListenRequest(database=self.client._database_string, add_target=target))

    def remove(self, target_id: int) -> None:
        self.requests.put(ListenRequest(database=self.client._database_string, remove_target=target_id))

    def settle(self, expected: int, quiet_s: float = 0.4) -> list[tuple[str, Any]]:
        """Wait for at least ``expected`` new responses, then a quiet period; return (and forget) what arrived."""
        wait_for(lambda: len(self.responses) >= expected, timeout_s=10)
        time.sleep(quiet_s)
        arrived, self.responses = self.responses, []
        return arrived

    def close(self) -> None:
        self.requests.put(None)


def describe(response: ListenResponse) -> tuple[str, Any]:
    kind = ListenResponse.pb(response).WhichOneof("response_type")
    if kind == "target_change":
        change = response.target_change
        return ChangeType(change.target_change_type).name, sorted(change.target_ids)
    if kind == "document_change":
        return "change", (
            response.document_change.document.name.rsplit("/", 1)[-1],
            sorted(response.document_change.target_ids),
        )
    if kind == "document_delete":
        return "delete", (
            response.document_delete.document.rsplit("/", 1)[-1],
            sorted(response.document_delete.removed_target_ids),
        )
    if kind == "document_remove":
        return "remove", (
            response.document_remove.document.rsplit("/", 1)[-1],
            sorted(response.document_remove.removed_target_ids),
        )
    return str(kind), None


@pytest.fixture
def raw(firestore_client: firestore.Client) -> Iterator[RawListen]:
    listen = RawListen(firestore_client)
    yield listen
    listen.close()


def test_targets_are_added_and_removed_on_one_stream_and_hear_only_their_own_writes(
    raw: RawListen, firestore_client: firestore.Client, stack: dict[str, str]
) -> None:
    watched = firestore_client.collection("watched")
    watched.document("x1").set({"kind": "a", "n": 1})
    raw.add_query(1, watched.where(filter=FieldFilter("kind", "==", "a")))
    assert raw.settle(4) == [("ADD", [1]), ("change", ("x1", [1])), ("CURRENT", [1]), ("NO_CHANGE", [])]

    # Writes the target cannot match: another collection, non-matching documents, the same path in another project.
    elsewhere = firestore_client.collection("maps_route_cache")
    batch = firestore_client.batch()
    for n in range(200):
        batch.set(elsewhere.document(f"pair-{n}"), {"minutes": n})
    batch.commit()
    for n in range(20):
        watched.document(f"b{n}").set({"kind": "b"})
    other_project = firestore.Client(project=f"{firestore_client.project}-other")
    other_project.collection("watched").document("x1").set({"kind": "a", "n": 99})
    watched.document("b0").set({"kind": "b", "n": 2})
    assert raw.settle(0, quiet_s=0.8) == [], "a result that did not change sends nothing"

    watched.document("x1").set({"kind": "a", "n": 2})
    assert raw.settle(2) == [("change", ("x1", [1])), ("NO_CHANGE", [])]

    raw.add_documents(2, watched.document("y1"))
    assert raw.settle(3) == [("ADD", [2]), ("CURRENT", [2]), ("NO_CHANGE", [])]
    raw.remove(1)
    assert raw.settle(1) == [("REMOVE", [1])]

    watched.document("x1").set({"kind": "a", "n": 3})
    watched.document("y1").set({"kind": "y"})
    assert raw.settle(2) == [("change", ("y1", [2])), ("NO_CHANGE", [])]
    watched.document("y1").delete()
    assert raw.settle(2) == [("delete", ("y1", [2])), ("NO_CHANGE", [])]


def test_a_document_leaving_a_query_is_removed_from_it(raw: RawListen, firestore_client: firestore.Client) -> None:
    trips = firestore_client.collection("trips_leaving")
    trips.document("t1").set({"user_id": "u1", "status": "planning"})
    raw.add_query(7, trips.where(filter=FieldFilter("status", "==", "planning")))
    raw.settle(4)
    trips.document("t1").update({"status": "ready"})
    assert raw.settle(2) == [("remove", ("t1", [7])), ("NO_CHANGE", [])]


def has_status(seen: list[tuple[str, str, Any]], status: str) -> bool:
    return any(entry[2] == status for entry in seen)


def test_on_snapshot_sees_each_stage_of_a_document_once(firestore_client: firestore.Client) -> None:
    trips = firestore_client.collection("trips_stages")
    seen: list[tuple[str, str, Any]] = []

    def record(_docs: Any, changes: Any, _time: Any) -> None:
        for change in changes:
            seen.append((change.type.name, change.document.id, (change.document.to_dict() or {}).get("status")))

    watch = trips.where(filter=FieldFilter("user_id", "==", "u1")).on_snapshot(record)
    try:
        time.sleep(0.3)
        reference = trips.document("t1")
        for status in ("queued", "planning", "ready"):
            reference.set({"user_id": "u1", "status": status})
            assert wait_for(partial(has_status, seen, status), timeout_s=10)
        for n in range(50):
            firestore_client.collection("places_cache").document(f"p{n}").set({"n": n})
        reference.delete()
        assert wait_for(lambda: any(entry[0] == "REMOVED" for entry in seen), timeout_s=10)
        time.sleep(0.3)
    finally:
        watch.unsubscribe()  # type: ignore[no-untyped-call]
    assert seen == [
        ("ADDED", "t1", "queued"),
        ("MODIFIED", "t1", "planning"),
        ("MODIFIED", "t1", "ready"),
        ("REMOVED", "t1", "ready"),
    ]
