"""A multi-city trip planned asynchronously (Prefer: respond-async): the worker resolves the cities and transfers
again and ends the trip ready with both; bad cities are refused with a 400 before anything is queued. Same stack
and fixtures as tests/integration/planning/test_async_planning.py (its own queue and Firestore project)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.cloud import firestore, tasks_v2

from tests.integration.planning import test_async_planning as base
from tests.integration.support import TestUser

# The asynchronous planning module's fixtures: this module gets its own queue, servers and Firestore project.
env, queue, tasks, user, worker_url, plan_url = (
    base.env,
    base.queue,
    base.tasks,
    base.user,
    base.worker_url,
    base.plan_url,
)
START, ended, pending_tasks, post_async, trips_of, wait_for = (
    base.START,
    base.ended,
    base.pending_tasks,
    base.post_async,
    base.trips_of,
    base.wait_for,
)


def cities_body(*cities: tuple[str, int]) -> dict[str, Any]:
    return {
        "destinations": [{"destination": name, "nights": nights} for name, nights in cities],
        "start_date": START.isoformat(),
        "end_date": (START + dt.timedelta(days=sum(nights for _, nights in cities))).isoformat(),
        "interests": ["museums", "food"],
    }


def test_a_multi_city_trip_is_planned_by_the_worker_with_its_transfer(
    plan_url: str,
    firestore_client: firestore.Client,
    user: TestUser,
) -> None:
    response = post_async(plan_url, user, cities_body(("London", 1), ("Paris", 1)))
    assert response.status_code == 202, response.text
    trip_id = response.json()["id"]
    stored = wait_for(lambda: ended(firestore_client, trip_id), 90, "the trip to end")
    assert stored["status"] == "ready", stored.get("failure")
    assert [city["name"] for city in stored["cities"]] == ["London", "Paris"]
    assert [day["city"] for day in stored["days"]] == [0, 1, 1]
    transfer = stored["days"][1]["transfer"]
    assert (transfer["from_name"], transfer["to_name"], transfer["mode"]) == ("London", "Paris", "transit")
    assert stored["budget"]["by_category"]["transfers"] == transfer["cost_estimate"]["amount"]


def test_bad_cities_are_refused_before_anything_is_queued(
    plan_url: str,
    tasks: tasks_v2.CloudTasksClient,
    queue: str,
    firestore_client: firestore.Client,
    user: TestUser,
) -> None:
    before = len(trips_of(firestore_client, user.uid))
    response = post_async(plan_url, user, cities_body(("Atlantis", 1), ("Kyoto", 1), ("Sydney", 1)))
    assert response.status_code == 400, response.text
    fields = [problem["field"] for problem in response.json()["error"]["details"]]
    assert fields == ["destinations.0.destination", "destinations.2"], "the unknown city, then Kyoto-Sydney too far"
    assert len(trips_of(firestore_client, user.uid)) == before
    assert pending_tasks(tasks, queue) == []
