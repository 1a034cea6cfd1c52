"""Readiness report for operators and the local stack: configuration in use and whether Firestore answers."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from common.foundation.collection_names import HEALTH
from common.foundation.config import Settings

if TYPE_CHECKING:
    from google.cloud import firestore


def health_report(settings: Settings, firestore_client: firestore.Client) -> dict[str, Any]:
    """Describe this deployment and probe Firestore with one document read (a missing document is fine)."""
    started = time.monotonic()
    try:
        firestore_client.collection(HEALTH).document("probe").get(timeout=5)
        firestore_status: dict[str, Any] = {"ok": True}
    except Exception as exc:  # the probe reports any failure instead of raising it
        firestore_status = {"ok": False, "error": type(exc).__name__}
    firestore_status["latency_ms"] = int((time.monotonic() - started) * 1000)
    return {
        "status": "ok" if firestore_status["ok"] else "degraded",
        "app": settings.app_name,
        "version": settings.app_version,
        "environment": settings.environment,
        "project": settings.google_cloud_project,
        "ai_provider": settings.ai_model_provider,
        "gemini_model": settings.gemini_model,
        "maps_endpoint": settings.maps_api_endpoint or "google",
        "stand_ins": {
            "firestore": settings.firestore_emulator_host,
            "auth": settings.firebase_auth_emulator_host,
            "storage": settings.storage_emulator_host,
        },
        "firestore": firestore_status,
    }
