"""A user's own data: export it (GET /user_data) and delete the account with everything in it (DELETE /user_data).

A user's data is: the profile ``users/{uid}``, the trips they own (``trips`` with ``user_id == uid``), their AI
sessions (``ai_sessions`` with ``user_id == uid``, plus for deletion any session on a trip they own), their quota
document ``quotas/{uid}``, the share links of their trips and those they created on trips shared with them
(``share_links``: a digest of the token, never the token), and their place in other users' trips: trips store
``shared_with: {uid: role}`` and, for querying, ``shared_with_uids: [uid, ...]`` (a map key cannot be queried for
existence), kept in step by ``common.api.trips``. Trips shared with the user are found through ``shared_with_uids``.

Export: one JSON document (values in the lossless form of ``common.services.ops.codec``) written to
``gs://USER_EXPORT_BUCKET/USER_EXPORT_PREFIX/{uid}/{time}.json``. The answer carries a V4 signed URL valid for
``USER_EXPORT_URL_SECONDS`` when the credentials can sign (a service account key, or the function's own service
account through IAM ``signBlob``); otherwise (the local Cloud Storage emulator cannot serve signed URLs, and
credentials without a signer) the JSON itself is returned inline under ``data``.

Deletion, in an order that can be repeated after a failure: owned trips and sessions, the user's entry in shared
trips, the quota and profile documents, the user's exports in Cloud Storage, and last the Firebase Auth account
(so a retry with the same ID token still works until everything else is gone).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from common.foundation.batched_writes import delete_in_batches
from common.foundation.collection_names import QUOTAS, USERS
from common.foundation.config import Settings
from common.foundation.errors import ConfigError, UpstreamUnavailable
from common.foundation.log import get_logger
from common.foundation.queries import build_query
from common.services.ops.codec import encode_document, encode_value
from common.services.ops.runs import schedule_key
from common.services.trips import store as trip_store

if TYPE_CHECKING:
    import google.cloud.storage as storage
    from google.cloud import firestore

logger = get_logger(__name__)

EXPORT_FORMAT = "trip-planner-user-export/1"
DELETE_BATCH_SIZE = 200

Signer = Callable[["storage.Blob", dt.timedelta], "str | None"]


def _shared_trips(client: firestore.Client, uid: str) -> list[Any]:
    """Trips of other users shared with ``uid``."""
    return [
        snapshot
        for snapshot in build_query(client, "trips_shared_with_user", values={"shared_with_uids": uid}).stream()
        if (snapshot.to_dict() or {}).get("user_id") != uid
    ]


def collect_user_data(client: firestore.Client, uid: str, now: dt.datetime) -> dict[str, Any]:
    """Every document of the user, in the export's JSON form."""
    profile = client.collection(USERS).document(uid).get()
    quota = client.collection(QUOTAS).document(uid).get()
    trips = [
        encode_document(s.id, s.to_dict() or {})
        for s in build_query(client, "trips_of_user", values={"user_id": uid}).stream()
    ]
    sessions = [
        encode_document(s.id, s.to_dict() or {})
        for s in build_query(client, "sessions_of_user", values={"user_id": uid}).stream()
    ]
    links = {link.id: link for link in trip_store.links_created_by(client, uid)}
    for trip in trips:
        for link in trip_store.links_of_trip(client, trip["id"]):
            links.setdefault(link.id, link)
    shared = []
    for snapshot in _shared_trips(client, uid):
        roles = (snapshot.to_dict() or {}).get("shared_with") or {}
        shared.append({"trip_id": snapshot.id, "role": roles.get(uid) if isinstance(roles, dict) else None})
    return {
        "format": EXPORT_FORMAT,
        "uid": uid,
        "exported_at": now.isoformat(),
        "profile": encode_value(profile.to_dict() or {}) if profile.exists else None,
        "trips": sorted(trips, key=lambda item: item["id"]),
        "ai_sessions": sorted(sessions, key=lambda item: item["id"]),
        "quota": encode_value(quota.to_dict() or {}) if quota.exists else None,
        "shared_with_me": sorted(shared, key=lambda item: item["trip_id"]),
        "share_links": sorted(
            (encode_document(link.id, link.model_dump(mode="python")) for link in links.values()),
            key=lambda item: item["id"],
        ),
    }


def export_bucket(settings: Settings) -> str:
    bucket = settings.user_export_bucket or settings.backup_bucket
    if not bucket:
        raise ConfigError("USER_EXPORT_BUCKET (or BACKUP_BUCKET) must name a Cloud Storage bucket for user exports")
    return bucket.removeprefix("gs://").strip("/")


def default_signer(settings: Settings) -> Signer:
    """A V4 signer from Application Default Credentials; ``None`` (no URL) when they cannot sign."""

    def sign(blob: storage.Blob, lifetime: dt.timedelta) -> str | None:
        if settings.storage_emulator_host:
            return None  # the emulator serves no signed URLs
        import google.auth
        import google.auth.transport.requests
        from google.auth import exceptions as auth_exceptions

        try:
            credentials, _ = google.auth.default()
            if hasattr(credentials, "signer") and getattr(credentials, "signer", None) is not None:
                return str(blob.generate_signed_url(version="v4", expiration=lifetime, method="GET"))
            # Compute Engine / Cloud Functions credentials: sign through IAM signBlob as the function's account.
            credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
            email = getattr(credentials, "service_account_email", None)
            if not email or not credentials.token:
                return None
            return str(
                blob.generate_signed_url(
                    version="v4",
                    expiration=lifetime,
                    method="GET",
                    service_account_email=email,
                    access_token=credentials.token,
                )
            )
        except (auth_exceptions.GoogleAuthError, AttributeError, ValueError):
            logger.warning("cannot sign a URL for the user export; returning it inline", exc_info=True)
            return None

    return sign


class ExportCounts(BaseModel):
    trips: int
    ai_sessions: int


class UserDataExport(BaseModel):
    """What ``GET user_data`` answers: where the export was written, and a signed URL to it (or, where no URL can be
    signed, e.g. on the local stack, the data inline)."""

    uri: str = Field(description="gs:// location of the export file")
    counts: ExportCounts
    url: str | None = Field(description="Signed URL of the export; null when the data is inline")
    expires_at: str | None = Field(None, description="When the URL stops working (ISO 8601)")
    data: dict[str, Any] | None = Field(None, description="The export itself, when no URL could be signed")


class UserDataDeletion(BaseModel):
    """What ``DELETE user_data?confirm=true`` answers: how many of each kind of record went."""

    deleted: dict[str, int]


def export_user_data(
    client: firestore.Client,
    storage_client: storage.Client,
    settings: Settings,
    uid: str,
    now: dt.datetime,
    signer: Signer | None = None,
) -> dict[str, Any]:
    """Write the user's export to Cloud Storage; answer with a signed URL, or the data inline when none can be made."""
    data = collect_user_data(client, uid, now)
    payload = json.dumps(data, ensure_ascii=False, allow_nan=False, sort_keys=True)
    bucket_name = export_bucket(settings)
    object_name = f"{settings.user_export_prefix.strip('/')}/{uid}/{schedule_key(now)}.json"
    blob = storage_client.bucket(bucket_name).blob(object_name)
    blob.upload_from_string(payload.encode("utf-8"), content_type="application/json")
    lifetime = dt.timedelta(seconds=settings.user_export_url_seconds)
    url = (signer or default_signer(settings))(blob, lifetime)
    counts = {"trips": len(data["trips"]), "ai_sessions": len(data["ai_sessions"])}
    logger.info("user export written", extra={"fields": {"counts": counts, "signed": url is not None}})
    answer: dict[str, Any] = {"uri": f"gs://{bucket_name}/{object_name}", "counts": counts}
    if url:
        answer.update({"url": url, "expires_at": (now + lifetime).isoformat()})
    else:
        answer.update({"url": None, "data": data})
    return answer


def _leave_shared_trip(client: firestore.Client, reference: Any, uid: str, now: dt.datetime) -> bool:
    """Remove ``uid`` from one trip's ``shared_with`` map and ``shared_with_uids`` in a transaction, rewriting both
    (the stand-in ignores ``DELETE_FIELD``), as ``common.api.trips`` does when an owner unshares."""
    from google.cloud import firestore

    @firestore.transactional
    def leave(transaction: firestore.Transaction) -> bool:
        snapshot = reference.get(transaction=transaction)
        if not snapshot.exists:
            return False
        document = snapshot.to_dict() or {}
        roles = document.get("shared_with")
        uids = document.get("shared_with_uids")
        roles = dict(roles) if isinstance(roles, dict) else {}
        uids = list(uids) if isinstance(uids, list) else []
        if uid not in roles and uid not in uids:
            return False
        roles.pop(uid, None)
        transaction.update(
            reference,
            {
                "shared_with": roles,
                "shared_with_uids": sorted(item for item in uids if item != uid),
                "updated_at": now,
            },
        )
        return True

    result: bool = leave(client.transaction())
    return result


def delete_user_data(
    client: firestore.Client,
    storage_client: storage.Client,
    settings: Settings,
    uid: str,
    now: dt.datetime,
    delete_auth_user: Callable[[str], bool],
) -> dict[str, int]:
    """Delete everything of ``uid``; how many of each kind went. Safe to call again after a partial failure."""
    owned = [snapshot.reference for snapshot in build_query(client, "trips_of_user", values={"user_id": uid}).stream()]
    sessions = {
        snapshot.reference.path: snapshot.reference
        for snapshot in build_query(client, "sessions_of_user", values={"user_id": uid}).stream()
    }
    for trip in owned:
        for snapshot in build_query(client, "sessions_of_users_trip", values={"trip_id": trip.id}).stream():
            sessions[snapshot.reference.path] = snapshot.reference
    counts = {
        "share_links": sum(trip_store.delete_links_of_trip(client, trip.id) for trip in owned)
        + delete_in_batches(
            client, [trip_store.link_ref(client, link.id) for link in trip_store.links_created_by(client, uid)]
        ),
        "ai_sessions": delete_in_batches(client, sessions.values(), size=DELETE_BATCH_SIZE),
        "trips": delete_in_batches(client, owned, size=DELETE_BATCH_SIZE),
        "shared_trips_left": sum(
            _leave_shared_trip(client, snapshot.reference, uid, now) for snapshot in _shared_trips(client, uid)
        ),
    }
    for name, collection in (("quota", QUOTAS), ("profile", USERS)):
        reference = client.collection(collection).document(uid)
        counts[name] = 1 if reference.get().exists else 0
        reference.delete()
    bucket = storage_client.bucket(export_bucket(settings))
    exports = list(bucket.list_blobs(prefix=f"{settings.user_export_prefix.strip('/')}/{uid}/"))
    for blob in exports:
        blob.delete()
    counts["exports"] = len(exports)
    counts["auth_account"] = 1 if delete_auth_user(uid) else 0
    logger.info("user data deleted", extra={"fields": {"counts": counts}})
    return counts


def firebase_user_deleter(app: Any = None) -> Callable[[str], bool]:
    """Deletes the Firebase Auth account; ``False`` when it no longer exists."""

    def delete(uid: str) -> bool:
        from firebase_admin import auth, exceptions

        from common.foundation.auth import firebase_app

        try:
            auth.delete_user(uid, app=app or firebase_app.get())
        except auth.UserNotFoundError:
            return False
        except (exceptions.UnavailableError, exceptions.DeadlineExceededError) as exc:
            raise UpstreamUnavailable("Firebase Authentication is unavailable; try again") from exc
        return True

    return delete
