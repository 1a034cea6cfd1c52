// A typed app client: types generated from openapi.json by openapi-typescript, calls made with openapi-fetch.
// Compiled with tsc --strict (a type error fails the test), then run with node against the local stack.
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const headers = { Authorization: `Bearer ${env("ID_TOKEN")}` };
const planner = createClient<paths>({ baseUrl: env("PLAN_TRIP_URL"), headers });
const trips = createClient<paths>({ baseUrl: env("TRIPS_URL"), headers });

// Only the required fields: a defaulted field (pace, travelers...) must stay optional in the generated type.
const planned = await planner.POST("/plan_trip", {
  body: { destination: "Kyoto", start_date: env("START_DATE"), end_date: env("END_DATE"), interests: ["temples"] },
});
if (!planned.data) throw new Error(`plan: ${JSON.stringify(planned.error)}`);
const trip = planned.data;
const id = trip.id;

const listed = await trips.GET("/trips", { params: { query: { page_size: 5 } } });
const read = await trips.GET("/trips/{trip_id}", { params: { path: { trip_id: id } } });
const edited = await trips.PATCH("/trips/{trip_id}", {
  params: { path: { trip_id: id } },
  body: { version: trip.version, title: "Kyoto with friends" },
});
const shared = await trips.POST("/trips/{trip_id}/share", {
  params: { path: { trip_id: id } },
  body: { uid: env("FRIEND_UID"), role: "viewer" },
});
const calendar = await trips.GET("/trips/{trip_id}.ics", { params: { path: { trip_id: id } }, parseAs: "text" });

const firstStop = trip.days[0]?.stops[0];
process.stdout.write(
  JSON.stringify({
    trip_id: id,
    status: trip.status,
    first_stop: firstStop ? `${firstStop.arrive} ${firstStop.name}` : null,
    listed: listed.data?.trips.map((summary) => summary.id) ?? [],
    read_id: read.data?.id ?? null,
    edited_title: edited.data?.title ?? null,
    edited_version: edited.data?.version ?? null,
    shared_with: shared.data?.shared_with ?? null,
    calendar_starts: typeof calendar.data === "string" ? calendar.data.split("\n")[0]?.trim() : null,
  }),
);
