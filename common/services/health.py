"""Readiness report for operators and the local stack: configuration in use and whether Firestore answers."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from common.foundation.collection_names import HEALTH
from common.foundation.config import Settings

if TYPE_CHECKING:
    from google.cloud import firestore


class FirestoreProbe(BaseModel):
    ok: bool
    latency_ms: int
    error: str | None = None


class StandIns(BaseModel):
    firestore: str | None
    auth: str | None
    storage: str | None


class HealthReport(BaseModel):
    """What ``GET /health`` answers (503 with the same body when Firestore does not answer)."""

    status: Literal["ok", "degraded"]
    app: str
    version: str
    environment: str
    project: str | None
    ai_provider: str
    gemini_model: str
    maps_endpoint: str
    stand_ins: StandIns
    firestore: FirestoreProbe


def health_report(settings: Settings, firestore_client: firestore.Client) -> HealthReport:
    """Describe this deployment and probe Firestore with one document read (a missing document is fine)."""
    started = time.monotonic()
    error = None
    try:
        firestore_client.collection(HEALTH).document("probe").get(timeout=5)
    except Exception as exc:  # the probe reports any failure instead of raising it
        error = type(exc).__name__
    probe = FirestoreProbe(ok=error is None, latency_ms=int((time.monotonic() - started) * 1000), error=error)
    return HealthReport(
        status="ok" if probe.ok else "degraded",
        app=settings.app_name,
        version=settings.app_version,
        environment=settings.environment,
        project=settings.google_cloud_project,
        ai_provider=settings.ai_model_provider,
        gemini_model=settings.gemini_model,
        maps_endpoint=settings.maps_api_endpoint or "google",
        stand_ins=StandIns(
            firestore=settings.firestore_emulator_host,
            auth=settings.firebase_auth_emulator_host,
            storage=settings.storage_emulator_host,
        ),
        firestore=probe,
    )
