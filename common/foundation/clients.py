"""Lazily created, process-wide clients.

Cloud Functions (2nd gen) instances serve requests concurrently, so each client is built once per warm instance
behind a lock, and only when a function first needs it: a cold start imports nothing it does not use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import google.cloud.storage as storage
    import requests
    from google.cloud import firestore, tasks_v2

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value built on first ``get()`` by ``factory``, at most once, safely under concurrent callers."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._value: T | None = None
        self._built = False

    def get(self) -> T:
        if not self._built:
            with self._lock:
                if not self._built:
                    self._value = self._factory()
                    self._built = True
        return self._value  # type: ignore[return-value]

    def reset(self) -> None:
        """Forget the value (tests, or after a configuration change)."""
        with self._lock:
            self._value = None
            self._built = False


def _build_firestore() -> firestore.Client:
    from google.cloud import firestore

    from common.foundation.config import get_settings

    settings = get_settings()
    return firestore.Client(project=settings.google_cloud_project, database=settings.firestore_database_id)


def _build_storage() -> storage.Client:
    import google.cloud.storage as storage

    from common.foundation.config import get_settings

    settings = get_settings()
    if settings.storage_emulator_host:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project=settings.google_cloud_project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    return storage.Client(project=settings.google_cloud_project)


def _build_tasks() -> tasks_v2.CloudTasksClient:
    """The Cloud Tasks client; with CLOUD_TASKS_EMULATOR_HOST, over an insecure gRPC channel to the stand-in."""
    from google.cloud import tasks_v2

    from common.foundation.config import get_settings

    host = get_settings().cloud_tasks_emulator_host
    if host:
        import grpc
        from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

        return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=grpc.insecure_channel(host)))
    return tasks_v2.CloudTasksClient()


def _build_http_session() -> requests.Session:
    """One pooled HTTP session for the REST APIs that have no client library (the Weather API)."""
    import requests

    return requests.Session()


firestore_client: Lazy[firestore.Client] = Lazy(_build_firestore)
http_session: Lazy[requests.Session] = Lazy(_build_http_session)
tasks_client: Lazy[tasks_v2.CloudTasksClient] = Lazy(_build_tasks)
storage_client: Lazy[storage.Client] = Lazy(_build_storage)
