"""`make demo`: sign a demo user up in the Auth emulator, plan a sample trip through plan_trip, print it, and end with
a read-only share link to it (``POST /trips/{id}/links``) that opens the trip's page in a browser."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

from scripts.envfile import read_env_file


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def sign_up_demo_user(auth_host: str) -> str:
    email = f"demo-{uuid.uuid4().hex[:8]}@example.com"
    status, answer = _post(
        f"http://{auth_host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=local-demo",
        {"email": email, "password": "demo-password-1", "returnSecureToken": True},
    )
    if status != 200:
        raise SystemExit(f"could not sign the demo user up: {answer}")
    print(f"Signed up {email} in the Auth emulator.")
    return str(answer["idToken"])


def sample_request(destination: str, days: int, dietary: list[str]) -> dict[str, Any]:
    start = dt.date.today() + dt.timedelta(days=5)  # inside the 10-day forecast horizon: each day shows its weather
    return {
        "destination": destination,
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=days - 1)).isoformat(),
        "travelers": 2,
        "budget": {"amount": 900, "currency": "EUR"},
        "interests": ["temples", "gardens", "food"],
        "pace": "moderate",
        "transport": "transit",
        "must_include": ["Fushimi Inari Taisha"] if destination == "Kyoto" else [],
        "avoid": ["nightlife"],
        "dietary": dietary,
        "language": "en",
    }


def render(trip: dict[str, Any]) -> str:
    lines: list[str] = []
    destination = trip["destination"]
    planner = trip["planner"]
    lines.append(f"\n{destination['name']}  {trip['start_date']} to {trip['end_date']}  ({destination['time_zone']})")
    lines.append(f"trip {trip['id']}  status {trip['status']}  {trip['travelers']} travellers, {trip['pace']} pace")
    model = f" / {planner['model']}" if planner["model"] else ""
    lines.append(
        f"planned by: {planner['provider']}{model}  ({planner['llm_calls']} model calls, "
        f"{planner['function_calls']} tool calls, {planner['maps_calls']} Maps calls, "
        f"{planner['cache_hits']} cache hits, {planner['duration_ms']} ms)"
    )
    for day in trip["days"]:
        lines.append(f"\n  {day['date']}  {day['theme']}")
        lines.append(f"  {day['summary']}")
        lines.extend(_weather_lines(day.get("forecast")))
        for stop in day["stops"]:
            leg = stop["travel_from_previous"]
            if leg:
                lines.append(f"        ↓ {leg['mode']} {leg['duration_min']} min, {leg['distance_m']} m")
            cost = stop["cost_estimate"]
            lines.append(
                f"    {stop['arrive']}-{stop['depart']}  {stop['name']}  [{stop['category']}]"
                f"  ~{cost['amount']:.0f} {cost['currency']}"
            )
        for warning in day.get("warnings", []):
            lines.append(f"    ! {warning}")
    budget = trip["budget"]
    limit = f" of {budget['limit']:.0f}" if budget["limit"] is not None else ""
    by_category = ", ".join(f"{name} {amount:.0f}" for name, amount in budget["by_category"].items())
    lines.append(f"\nBudget: about {budget['estimated_total']:.0f}{limit} {budget['currency']} ({by_category})")
    if trip["dropped"]:
        lines.append("Dropped:")
        lines.extend(f"  - {item['name']}: {item['reason']}" for item in trip["dropped"])
    if trip["warnings"]:
        lines.append("Notes:")
        lines.extend(f"  - {warning}" for warning in trip["warnings"])
    return "\n".join(lines)


def _weather_lines(forecast: dict[str, Any] | None) -> list[str]:
    """The day's forecast and what the weather moved off it."""
    if not forecast:
        return []
    text = forecast["description"] or forecast["status"]
    if forecast["status"] == "known":
        text += f", {forecast['precipitation_probability']}% chance of rain"
        if forecast["low_c"] is not None and forecast["high_c"] is not None:
            text += f", {forecast['low_c']:.0f} to {forecast['high_c']:.0f} °C"
        if forecast["wet"]:
            text += " (indoor places favoured)"
    return [f"  weather: {text}", *(f"  ~ {moved}" for moved in forecast["moved"])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--destination", default="Kyoto")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument(
        "--dietary",
        action="append",
        default=[],
        help="a dietary need (repeatable), e.g. vegetarian: the stand-in's Kyoto has no vegetarian dinner venue",
    )
    args = parser.parse_args()
    env = read_env_file()
    token = sign_up_demo_user(env["FIREBASE_AUTH_EMULATOR_HOST"])
    body = sample_request(args.destination, args.days, args.dietary)
    print(f"POST {env['PLAN_TRIP_URL']}\n{json.dumps(body, ensure_ascii=False)}")
    status, answer = _post(env["PLAN_TRIP_URL"], body, {"Authorization": f"Bearer {token}"})
    if status != 201:
        print(f"plan_trip answered {status}: {json.dumps(answer, indent=2)}", file=sys.stderr)
        return 1
    print(render(answer))
    auth = {"Authorization": f"Bearer {token}"}
    status, link = _post(f"{env['TRIPS_URL']}/trips/{answer['id']}/links", {"expires_in_days": 30}, auth)
    if status != 201:
        print(f"creating the share link answered {status}: {json.dumps(link, indent=2)}", file=sys.stderr)
        return 1
    print(f"\nShare link (read-only, no sign-in, works for 30 days; open it in a browser):\n{link['url']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
