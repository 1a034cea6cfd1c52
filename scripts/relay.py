"""Dev-only trigger relay: delivers Firestore writes to a CloudEvent function as Eventarc would.

Listens to one collection of the Firestore stand-in with ``on_snapshot`` and posts every create, update and delete
to the target as a binary-mode CloudEvent of type ``google.cloud.firestore.document.v1.written`` whose body is a
protobuf ``DocumentEventData`` with ``value`` and ``old_value``. The first snapshot only records existing documents
(Eventarc delivers writes, not state). Deliveries are sequential and retried a few times on failure.

    python -m scripts.relay --collection trips --target http://127.0.0.1:8202 [--project P] [--health-port N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from google.cloud import firestore

from common.foundation.firestore_events import EVENT_TYPE_WRITTEN, build_document, build_event_data

logger = logging.getLogger("relay")


class Relay:
    """Turns snapshot changes of one collection into CloudEvent deliveries."""

    def __init__(self, client: firestore.Client, collection: str, target: str, database: str = "(default)") -> None:
        self.client = client
        self.collection = collection
        self.target = target
        self.database = database
        self.previous: dict[str, Any] = {}
        self.outbox: queue.Queue[tuple[str, Any, Any] | None] = queue.Queue()
        self.first_snapshot = threading.Event()
        self.delivered = 0
        self.failed = 0

    def document_name(self, doc_id: str) -> str:
        return f"projects/{self.client.project}/databases/{self.database}/documents/{self.collection}/{doc_id}"

    def on_snapshot(self, _snapshot: Any, changes: Any, _read_time: Any) -> None:
        for change in changes:
            doc = change.document
            if change.type.name == "REMOVED":
                new = None
            else:
                new = build_document(self.document_name(doc.id), doc.to_dict() or {}, doc.create_time, doc.update_time)
            old = self.previous.get(doc.id)
            if new is None:
                self.previous.pop(doc.id, None)
            else:
                self.previous[doc.id] = new
            if self.first_snapshot.is_set():
                self.outbox.put((doc.id, old, new))
        self.first_snapshot.set()

    def deliver_forever(self) -> None:
        while True:
            item = self.outbox.get()
            if item is None:
                return
            doc_id, old, new = item
            self.deliver(doc_id, old, new)

    def deliver(self, doc_id: str, old: Any, new: Any) -> None:
        event = build_event_data(old, new)
        body = type(event).serialize(event)
        event_time = new.update_time if new is not None else dt.datetime.now(dt.UTC)
        project = self.client.project
        headers = {
            "Content-Type": "application/protobuf",
            "ce-specversion": "1.0",
            "ce-id": uuid.uuid4().hex,
            "ce-type": EVENT_TYPE_WRITTEN,
            "ce-source": f"//firestore.googleapis.com/projects/{project}/databases/{self.database}",
            "ce-subject": f"documents/{self.collection}/{doc_id}",
            "ce-time": event_time.isoformat().replace("+00:00", "Z"),
            "ce-dataschema": "https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/firestore/v1/data.proto",
            "ce-project": project,
            "ce-database": self.database,
            "ce-namespace": "(default)",
            "ce-document": f"{self.collection}/{doc_id}",
            "ce-location": "local",
        }
        for attempt in range(5):
            request = urllib.request.Request(self.target, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
                self.delivered += 1
                logger.info("delivered %s %s -> %s", headers["ce-id"], headers["ce-document"], response.status)
                return
            except urllib.error.HTTPError as exc:
                logger.warning("delivery %s answered %s (attempt %d)", headers["ce-id"], exc.code, attempt + 1)
            except OSError as exc:
                logger.warning("delivery %s failed: %s (attempt %d)", headers["ce-id"], exc, attempt + 1)
            time.sleep(min(8.0, 0.25 * 2**attempt))
        self.failed += 1
        logger.error("gave up delivering %s", headers["ce-document"])


def _serve_health(port: int, relay: Relay) -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ready = relay.first_snapshot.is_set()
            payload = f'{{"ready": {str(ready).lower()}, "delivered": {relay.delivered}, "failed": {relay.failed}}}'
            self.send_response(200 if ready else 503)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload.encode())

        def log_message(self, *_: Any) -> None:
            return

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="Deliver Firestore writes to a CloudEvent function.")
    parser.add_argument("--collection", default="trips")
    parser.add_argument("--target", required=True)
    parser.add_argument("--project", default=os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-trip-planner"))
    parser.add_argument("--health-port", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s relay %(levelname)s %(message)s")
    if not os.environ.get("FIRESTORE_EMULATOR_HOST"):
        raise SystemExit("the relay is for the local stack only: set FIRESTORE_EMULATOR_HOST")
    relay = Relay(firestore.Client(project=args.project), args.collection, args.target)
    watch = relay.client.collection(args.collection).on_snapshot(relay.on_snapshot)
    relay.first_snapshot.wait(timeout=30)
    logger.info("watching %s/%s, delivering to %s", args.project, args.collection, args.target)
    if args.health_port:
        threading.Thread(target=_serve_health, args=(args.health_port, relay), daemon=True).start()
    try:
        relay.deliver_forever()
    finally:
        watch.unsubscribe()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
