"""A CloudEvent function used only by the relay round-trip test: it records what each delivery decoded to."""

from __future__ import annotations

from typing import Any

import functions_framework
from google.cloud import firestore

from common.foundation.firestore_events import decode_event_data

_client = firestore.Client()


@functions_framework.cloud_event
def record_delivery(event: Any) -> None:
    change = decode_event_data(event.data)
    _client.collection("relay_received").document(event["id"]).set(
        {
            "type": event["type"],
            "subject": event["subject"],
            "document": change.document,
            "old": change.old,
            "new": change.new,
            "is_delete": change.is_delete,
            "received_at": firestore.SERVER_TIMESTAMP,
        }
    )
