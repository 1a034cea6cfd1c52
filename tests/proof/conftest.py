"""Fixtures of the proof suites: the integration fixtures (the local stack, a Firestore project per module, a client
on it), reused as they are, so these suites start and stop the stack the same way."""

from __future__ import annotations

from tests.integration.conftest import firestore_client, firestore_project, integration_env, stack

__all__ = ["firestore_client", "firestore_project", "integration_env", "stack"]
