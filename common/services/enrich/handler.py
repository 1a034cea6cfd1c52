"""The ``enrich_places`` trigger: one ``google.cloud.firestore.document.v1.written`` event on ``trips/{id}``.

Delivery is at least once and unordered, so the handler is idempotent and loop-free:
- deletes, trips that are not ``ready``, and events older than ``ENRICH_MAX_EVENT_AGE_SECONDS`` are acknowledged
  and ignored (the last with a log line);
- nothing is done when the trip's inputs (``common.services.trips.day_inputs``) hash to ``enrichment.input_hash``, the
hash of   what enrichment last *wrote back*: so the event of its own write, replays and content-free writes cost no
write; - an event older than the stored document (or than the version last enriched) is skipped when the inputs changed
  since: the newer write's own event will come;
- the write-back happens in a transaction that re-reads the trip and writes only if its inputs still hash to what
  was enriched, with an update-time precondition (enforced by real Firestore; the stand-in ignores preconditions
  and does not isolate transactions, so this path is tested single-threaded there).

It raises only to ask for a retry (``RetryableError``: Maps or Firestore briefly unavailable). A permanent failure
is stored on the trip as ``enrichment: {status: "failed", reason}``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from common.domain.maps import MapsService, MapsUsage
from common.foundation.clients import Lazy
from common.foundation.collection_names import TRIPS
from common.foundation.config import Settings
from common.foundation.errors import PermanentError, RetryableError, UpstreamUnavailable
from common.foundation.firestore_events import DocumentChange, decode_event_data
from common.foundation.log import get_logger, log_context
from common.foundation.times import as_utc, utc_now
from common.services.enrich.compute import enrich_days
from common.services.trips import day_inputs, store
from common.services.trips.models import Day, EnrichmentReport, Trip

if TYPE_CHECKING:
    from google.cloud import firestore

logger = get_logger(__name__)
MAX_REASON = 300


class Outcome(enum.StrEnum):
    DELETED = "deleted"
    IGNORED = "ignored"
    TOO_OLD = "too_old"
    NOT_READY = "not_ready"
    UNCHANGED = "unchanged"
    STALE = "stale"
    GONE = "gone"
    NOTHING_TO_DO = "nothing_to_do"
    SUPERSEDED = "superseded"
    ENRICHED = "enriched"
    FAILED = "failed"


@dataclass(frozen=True)
class EnrichDeps:
    settings: Settings
    firestore: firestore.Client
    maps: MapsService
    max_event_age_seconds: int = 3600
    clock: Callable[[], dt.datetime] = utc_now


def trip_id_of(document: str) -> str | None:
    """``projects/p/databases/d/documents/trips/{id}`` -> id; None for any other document."""
    _, marker, path = document.partition("/documents/")
    parts = path.split("/") if marker else []
    if len(parts) == 2 and parts[0] == TRIPS and parts[1]:
        return parts[1]
    return None


def is_too_old(event_time: dt.datetime | None, now: dt.datetime, max_age_seconds: int) -> bool:
    return event_time is not None and (now - event_time).total_seconds() > max_age_seconds


def is_stale(
    event_update_time: dt.datetime | None,
    event_trip: Trip,
    stored_update_time: dt.datetime | None,
    stored_trip: Trip,
) -> bool:
    """The event describes an older version than the stored one *and* the inputs changed since (so the newer write
    produced its own event). Equal inputs are enriched anyway: a write that changes nothing sends no event."""
    if event_update_time is None:
        return False
    enriched_source = as_utc(stored_trip.enrichment.source_update_time if stored_trip.enrichment else None)
    newer = [time for time in (stored_update_time, enriched_source) if time is not None and time > event_update_time]
    return bool(newer) and day_inputs.trip_input_hash(event_trip) != day_inputs.trip_input_hash(stored_trip)


def _enrichment_report(
    trip: Trip,
    *,
    days: list[Day],
    status: str,
    reason: str | None,
    source_update_time: dt.datetime | None,
    event_id: str,
    changed: list[str],
    usage: MapsUsage,
    now: dt.datetime,
) -> EnrichmentReport:
    previous = trip.enrichment or EnrichmentReport()
    return EnrichmentReport(
        status="enriched" if status == "enriched" else "failed",
        reason=reason,
        input_hash=day_inputs.input_hash(days, trip.transport),
        day_hashes=day_inputs.day_hashes(days) if status == "enriched" else previous.day_hashes,
        transport=trip.transport,
        source_update_time=source_update_time,
        enriched_at=now,
        event_id=event_id,
        changed_dates=changed,
        runs=previous.runs + 1,
        maps_calls=usage.total_upstream_calls,
    )


def _input_hash_seen(trip: Trip) -> str | None:
    return trip.enrichment.input_hash if trip.enrichment else None


def handle_trip_event(*, event_id: str, event_time: Any, data: Any, deps: EnrichDeps) -> Outcome:
    """Enrich the trip an event names if it needs it; return what was done."""
    try:
        change = decode_event_data(data)
    except Exception:  # a body that never decodes will not decode on a retry either
        logger.error(
            "enrich_places: the event body does not decode", exc_info=True, extra={"fields": {"event_id": event_id}}
        )
        return Outcome.IGNORED
    from google.api_core import exceptions as core_exceptions

    trip_id = trip_id_of(change.document)
    with log_context(trip_id=trip_id, event_id=event_id):
        try:
            return _handle(change, trip_id, event_id, as_utc(event_time), deps)
        except RetryableError:
            raise
        except (core_exceptions.ServiceUnavailable, core_exceptions.DeadlineExceeded, core_exceptions.Aborted) as error:
            raise UpstreamUnavailable(f"Firestore is unavailable: {type(error).__name__}") from error
        except Exception:
            # A bug would fail the same way on every retry: record it (Error Reporting reads the trace) and ack.
            logger.exception("enrich_places: unexpected failure; the event is acknowledged")
            return Outcome.IGNORED


def _handle(
    change: DocumentChange, trip_id: str | None, event_id: str, event_time: dt.datetime | None, deps: EnrichDeps
) -> Outcome:
    if change.is_delete:
        return Outcome.DELETED
    if trip_id is None or change.new is None:
        logger.warning("enrich_places: not a trip document: %s", change.document[:200])
        return Outcome.IGNORED
    now = deps.clock()
    sent_at = event_time or as_utc(change.update_time)
    if is_too_old(sent_at, now, deps.max_event_age_seconds):
        logger.warning(
            "enrich_places: dropped an event older than %d s",
            deps.max_event_age_seconds,
            extra={"fields": {"event_time": sent_at.isoformat() if sent_at else None}},
        )
        return Outcome.TOO_OLD
    if change.new.get("status") != "ready":
        return Outcome.NOT_READY
    try:
        event_trip = store.from_document(change.new)
    except ValidationError as error:
        logger.error("enrich_places: the document is not a trip: %s", error.errors()[:3])
        return Outcome.IGNORED
    if day_inputs.trip_input_hash(event_trip) == _input_hash_seen(event_trip):
        return Outcome.UNCHANGED
    ref = store.trip_ref(deps.firestore, trip_id)
    snapshot = ref.get()
    if not snapshot.exists:
        return Outcome.GONE
    trip = store.from_document(snapshot.to_dict() or {})
    if trip.status != "ready":
        return Outcome.NOT_READY
    source_hash = day_inputs.trip_input_hash(trip)
    if source_hash == _input_hash_seen(trip):
        return Outcome.UNCHANGED
    event_update_time = as_utc(change.update_time)
    if is_stale(event_update_time, event_trip, as_utc(snapshot.update_time), trip):
        logger.info("enrich_places: skipped an event older than the stored trip")
        return Outcome.STALE
    changed = day_inputs.changed_dates(trip)
    if not changed and not trip.enrichment:
        return Outcome.NOTHING_TO_DO  # straight from the planner, which computed legs and times itself
    usage = MapsUsage()
    source_time = as_utc(snapshot.update_time) or event_update_time
    try:
        days = enrich_days(trip, changed, deps.maps, usage, deps.settings) if changed else list(trip.days)
    except RetryableError:
        logger.warning("enrich_places: transient failure; asking for a retry", exc_info=True)
        raise
    except PermanentError as error:
        logger.warning("enrich_places: enrichment failed: %s", error.code)
        report = _enrichment_report(
            trip,
            days=list(trip.days),
            status="failed",
            reason=f"{error.code}: {error.message}"[:MAX_REASON],
            source_update_time=source_time,
            event_id=event_id,
            changed=changed,
            usage=usage,
            now=now,
        )
        outcome = _write_back(deps.firestore, ref, source_hash, trip.model_copy(update={"enrichment": report}))
        return Outcome.FAILED if outcome is Outcome.ENRICHED else outcome
    report = _enrichment_report(
        trip,
        days=days,
        status="enriched",
        reason=None,
        source_update_time=source_time,
        event_id=event_id,
        changed=changed,
        usage=usage,
        now=now,
    )
    outcome = _write_back(
        deps.firestore, ref, source_hash, trip.model_copy(update={"days": days, "enrichment": report})
    )
    logger.info(
        "enrich_places: %s",
        outcome.value,
        extra={"fields": {"changed_dates": changed, "maps_calls": usage.total_upstream_calls}},
    )
    return outcome


ENRICHED_FIELDS = ("days", "enrichment")


def _write_back(
    client: firestore.Client, ref: firestore.DocumentReference, source_hash: str, enriched: Trip
) -> Outcome:
    """Write the days and enrichment report of ``enriched`` if the trip's inputs still hash to ``source_hash``
    (re-read in a transaction)."""
    from google.api_core import exceptions as core_exceptions
    from google.cloud import firestore

    @firestore.transactional
    def write(transaction: firestore.Transaction) -> Outcome:
        snapshot = ref.get(transaction=transaction)
        if not snapshot.exists:
            return Outcome.GONE
        current = store.from_document(snapshot.to_dict() or {})
        if current.status != "ready" or day_inputs.trip_input_hash(current) != source_hash:
            return Outcome.SUPERSEDED  # changed while we worked: the newer write's event enriches it
        fields = store.fields_of(enriched, ENRICHED_FIELDS)
        transaction.update(ref, fields, option=client.write_option(last_update_time=snapshot.update_time))
        return Outcome.ENRICHED

    try:
        return write(client.transaction())  # type: ignore[no-any-return]
    except (core_exceptions.ServiceUnavailable, core_exceptions.DeadlineExceeded, core_exceptions.Aborted) as error:
        raise UpstreamUnavailable(f"Firestore is unavailable: {type(error).__name__}") from None
    except core_exceptions.FailedPrecondition:
        return Outcome.SUPERSEDED


def handle_cloud_event(event: Any, deps: EnrichDeps) -> Outcome:
    """Adapter for functions-framework's ``CloudEvent`` (attributes by key, body as ``event.data``)."""
    return handle_trip_event(event_id=str(event["id"]), event_time=event.get("time"), data=event.data, deps=deps)


def _build_default_deps() -> EnrichDeps:
    from common.domain.maps import maps_service
    from common.foundation.clients import firestore_client
    from common.foundation.config import get_settings

    settings = get_settings()
    return EnrichDeps(
        settings=settings,
        firestore=firestore_client.get(),
        maps=maps_service.get(),
        max_event_age_seconds=settings.enrich_max_event_age_seconds,
    )


default_deps: Lazy[EnrichDeps] = Lazy(_build_default_deps)
