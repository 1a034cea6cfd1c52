"""Fixtures of the proof suites: the integration fixtures (the local stack, its check before each module, a Firestore
project per module, a client on it) and the stack's status on failures, reused as they are, so these suites start,
check and stop the stack the same way."""

from __future__ import annotations

from tests.integration.conftest import (
    firestore_client,
    firestore_project,
    integration_env,
    pytest_runtest_makereport,
    stack,
    stack_answers,
)

__all__ = [
    "firestore_client",
    "firestore_project",
    "integration_env",
    "pytest_runtest_makereport",
    "stack",
    "stack_answers",
]
