// firestore.rules evaluated by the official Firestore emulator (firebase-tools), one case per rule and collection.
// Run with `make rules-test` (or `npm test` here): firebase emulators:exec starts the emulator and sets
// FIRESTORE_EMULATOR_HOST, which @firebase/rules-unit-testing reads. The rules are loaded from the repository's
// firestore.rules file, the one `firebase deploy --only firestore` deploys.
import { readFileSync } from "node:fs";
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";

import { assertFails, assertSucceeds, initializeTestEnvironment } from "@firebase/rules-unit-testing";

const RULES_PATH = new URL("../../firestore.rules", import.meta.url);
const PROJECT_ID = process.env.GCLOUD_PROJECT ?? "demo-trip-planner-rules";
const MAX_CLIENT_PAGE = 50;

const OWNER = "alice";
const SHARED = "bob";
const OTHER = "mallory";

// Every collection the functions write that clients must never touch (names from common/: trips/admission.py,
// ops/user_data.py, maps/cache.py, ops/backup.py, ops/runs.py, health.py, trips/store.py and trips/page_limits.py:
// share links hold token digests and uids of their creators; page misses hold hashed client addresses).
const SERVER_ONLY_COLLECTIONS = [
  "ai_sessions",
  "quotas",
  "places_cache",
  "maps_search_cache",
  "maps_route_cache",
  "maps_weather_cache",
  "backups",
  "ops_runs",
  "_health",
  "share_links",
  "share_page_misses",
];

const OWN_TRIP = "trip-owned";
const SECOND_OWN_TRIP = "trip-owned-2";
const FOREIGN_TRIP = "trip-of-mallory";

function trip(id, userId, sharedWith = {}) {
  // The fields the rules read, shaped as common/trips/store.py stores them.
  return {
    id,
    user_id: userId,
    status: "ready",
    version: 1,
    shared_with: sharedWith,
    shared_with_uids: Object.keys(sharedWith).sort(),
    days: [],
  };
}

// The document seeded in each server-only collection: keyed and tagged with the owner's uid, as quotas and
// ai_sessions are, so an owner-scoped rule (if one were ever added by mistake) would match it.
function serverOnlyDocId(collection) {
  return collection === "quotas" ? OWNER : `${collection}-doc`;
}

let testEnv;

function as(actor) {
  return actor === null ? testEnv.unauthenticatedContext().firestore() : testEnv.authenticatedContext(actor).firestore();
}

before(async () => {
  testEnv = await initializeTestEnvironment({
    projectId: PROJECT_ID,
    firestore: { rules: readFileSync(RULES_PATH, "utf8") },
  });
});

after(async () => {
  await testEnv?.cleanup();
});

beforeEach(async () => {
  await testEnv.clearFirestore();
  await testEnv.withSecurityRulesDisabled(async (context) => {
    const db = context.firestore();
    await db.doc(`trips/${OWN_TRIP}`).set(trip(OWN_TRIP, OWNER, { [SHARED]: "viewer" }));
    await db.doc(`trips/${SECOND_OWN_TRIP}`).set(trip(SECOND_OWN_TRIP, OWNER));
    await db.doc(`trips/${FOREIGN_TRIP}`).set(trip(FOREIGN_TRIP, OTHER));
    await db.doc(`trips/${OWN_TRIP}/notes/n1`).set({ user_id: OWNER, text: "a sub-collection of a trip" });
    await db.doc(`users/${OWNER}`).set({ uid: OWNER, display_name: "Alice" });
    await db.doc(`users/${OTHER}`).set({ uid: OTHER, display_name: "Mallory" });
    for (const collection of SERVER_ONLY_COLLECTIONS) {
      await db.doc(`${collection}/${serverOnlyDocId(collection)}`).set({ user_id: OWNER, value: 1 });
    }
  });
});

describe("seeding", () => {
  it("stores every seeded document, so a refused read below is the rules' doing", async () => {
    await testEnv.withSecurityRulesDisabled(async (context) => {
      const db = context.firestore();
      assert.equal((await db.collection("trips").get()).size, 3);
      assert.equal((await db.collection("users").get()).size, 2);
      for (const collection of SERVER_ONLY_COLLECTIONS) {
        assert.ok((await db.doc(`${collection}/${serverOnlyDocId(collection)}`).get()).exists, collection);
      }
    });
  });
});

describe("trips: get", () => {
  it("lets the owner read their trip", async () => {
    const snapshot = await assertSucceeds(as(OWNER).doc(`trips/${OWN_TRIP}`).get());
    assert.equal(snapshot.get("user_id"), OWNER);
  });

  it("lets a user listed in shared_with_uids read the trip", async () => {
    const snapshot = await assertSucceeds(as(SHARED).doc(`trips/${OWN_TRIP}`).get());
    assert.equal(snapshot.id, OWN_TRIP);
  });

  it("refuses a signed-in user who neither owns the trip nor is shared on it", async () => {
    await assertFails(as(OTHER).doc(`trips/${OWN_TRIP}`).get());
  });

  it("refuses a shared user a trip of the same owner that is not shared with them", async () => {
    await assertFails(as(SHARED).doc(`trips/${SECOND_OWN_TRIP}`).get());
  });

  it("refuses an unauthenticated client", async () => {
    await assertFails(as(null).doc(`trips/${OWN_TRIP}`).get());
  });

  it("refuses a sub-collection of a trip, even to its owner (only trips/{tripId} itself is opened)", async () => {
    await assertFails(as(OWNER).doc(`trips/${OWN_TRIP}/notes/n1`).get());
  });
});

describe("trips: list", () => {
  const owned = (db) => db.collection("trips").where("user_id", "==", OWNER);
  const sharedWith = (db, uid) => db.collection("trips").where("shared_with_uids", "array-contains", uid);

  it(`lets the owner list their trips with limit ${MAX_CLIENT_PAGE}`, async () => {
    const snapshot = await assertSucceeds(owned(as(OWNER)).limit(MAX_CLIENT_PAGE).get());
    assert.deepEqual(snapshot.docs.map((doc) => doc.id).sort(), [OWN_TRIP, SECOND_OWN_TRIP]);
  });

  it("lets the owner list with a smaller limit", async () => {
    const snapshot = await assertSucceeds(owned(as(OWNER)).limit(1).get());
    assert.equal(snapshot.size, 1);
  });

  it(`refuses the owner a limit of ${MAX_CLIENT_PAGE + 1}`, async () => {
    await assertFails(owned(as(OWNER)).limit(MAX_CLIENT_PAGE + 1).get());
  });

  it("refuses the owner a query without a limit", async () => {
    await assertFails(owned(as(OWNER)).get());
  });

  it("refuses a query not constrained to the caller (it could return other users' trips)", async () => {
    await assertFails(as(OWNER).collection("trips").limit(10).get());
  });

  it("lets a shared user list the trips shared with them with a limit", async () => {
    const snapshot = await assertSucceeds(sharedWith(as(SHARED), SHARED).limit(MAX_CLIENT_PAGE).get());
    assert.deepEqual(snapshot.docs.map((doc) => doc.id), [OWN_TRIP]);
  });

  it(`refuses a shared user a limit of ${MAX_CLIENT_PAGE + 1} or none`, async () => {
    await assertFails(sharedWith(as(SHARED), SHARED).limit(MAX_CLIENT_PAGE + 1).get());
    await assertFails(sharedWith(as(SHARED), SHARED).get());
  });

  it("refuses another signed-in user listing the owner's trips", async () => {
    await assertFails(owned(as(OTHER)).limit(10).get());
  });

  it("refuses another signed-in user listing trips shared with someone else", async () => {
    await assertFails(sharedWith(as(OTHER), SHARED).limit(10).get());
  });

  it("refuses an unauthenticated client, even with a limit", async () => {
    await assertFails(owned(as(null)).limit(10).get());
  });
});

describe("trips: every client write is refused", () => {
  const newTrip = trip("trip-new", OWNER);

  it("refuses the owner creating a trip of their own", async () => {
    await assertFails(as(OWNER).doc("trips/trip-new").set(newTrip));
  });

  it("refuses the owner creating one through add()", async () => {
    await assertFails(as(OWNER).collection("trips").add(newTrip));
  });

  it("refuses the owner updating their trip", async () => {
    await assertFails(as(OWNER).doc(`trips/${OWN_TRIP}`).update({ title: "renamed" }));
  });

  it("refuses the owner overwriting their trip with set()", async () => {
    await assertFails(as(OWNER).doc(`trips/${OWN_TRIP}`).set(trip(OWN_TRIP, OWNER)));
  });

  it("refuses the owner deleting their trip", async () => {
    await assertFails(as(OWNER).doc(`trips/${OWN_TRIP}`).delete());
  });

  it("refuses a shared user updating the trip", async () => {
    await assertFails(as(SHARED).doc(`trips/${OWN_TRIP}`).update({ title: "renamed" }));
  });

  it("refuses another signed-in user updating or deleting the trip", async () => {
    await assertFails(as(OTHER).doc(`trips/${OWN_TRIP}`).update({ user_id: OTHER }));
    await assertFails(as(OTHER).doc(`trips/${OWN_TRIP}`).delete());
  });

  it("refuses an unauthenticated client creating, updating or deleting", async () => {
    await assertFails(as(null).doc("trips/trip-new").set(newTrip));
    await assertFails(as(null).doc(`trips/${OWN_TRIP}`).update({ title: "renamed" }));
    await assertFails(as(null).doc(`trips/${OWN_TRIP}`).delete());
  });

  it("refuses the owner writing a sub-collection of their trip", async () => {
    await assertFails(as(OWNER).doc(`trips/${OWN_TRIP}/notes/n2`).set({ text: "x" }));
  });

  it("leaves the trip as seeded after every refused write", async () => {
    await assertFails(as(OWNER).doc(`trips/${OWN_TRIP}`).update({ title: "renamed" }));
    await testEnv.withSecurityRulesDisabled(async (context) => {
      const stored = await context.firestore().doc(`trips/${OWN_TRIP}`).get();
      assert.equal(stored.get("title"), undefined);
    });
  });
});

describe("users", () => {
  it("lets a user read their own profile", async () => {
    const snapshot = await assertSucceeds(as(OWNER).doc(`users/${OWNER}`).get());
    assert.equal(snapshot.get("display_name"), "Alice");
  });

  it("refuses a user another user's profile", async () => {
    await assertFails(as(OWNER).doc(`users/${OTHER}`).get());
  });

  it("refuses an unauthenticated client any profile", async () => {
    await assertFails(as(null).doc(`users/${OWNER}`).get());
  });

  it("refuses listing profiles, even one's own with a limit", async () => {
    await assertFails(as(OWNER).collection("users").where("uid", "==", OWNER).limit(1).get());
    await assertFails(as(OWNER).collection("users").limit(10).get());
  });

  it("refuses a user creating, updating or deleting their own profile", async () => {
    await assertFails(as("newcomer").doc("users/newcomer").set({ uid: "newcomer" }));
    await assertFails(as(OWNER).doc(`users/${OWNER}`).update({ display_name: "Eve" }));
    await assertFails(as(OWNER).doc(`users/${OWNER}`).set({ uid: OWNER, admin: true }));
    await assertFails(as(OWNER).doc(`users/${OWNER}`).delete());
  });

  it("refuses writing another user's profile, signed in or not", async () => {
    await assertFails(as(OWNER).doc(`users/${OTHER}`).update({ display_name: "Eve" }));
    await assertFails(as(null).doc(`users/${OWNER}`).delete());
  });
});

for (const collection of SERVER_ONLY_COLLECTIONS) {
  describe(`${collection}: closed to clients`, () => {
    const docPath = `${collection}/${serverOnlyDocId(collection)}`;
    const actors = [
      ["the owner", OWNER],
      ["another signed-in user", OTHER],
      ["an unauthenticated client", null],
    ];

    for (const [who, actor] of actors) {
      it(`refuses ${who} reading: get and a bounded, owner-filtered list`, async () => {
        const db = as(actor);
        await assertFails(db.doc(docPath).get());
        await assertFails(db.collection(collection).where("user_id", "==", OWNER).limit(1).get());
      });

      it(`refuses ${who} writing: create, update, set and delete`, async () => {
        const db = as(actor);
        await assertFails(db.doc(`${collection}/created-by-client`).set({ user_id: OWNER, value: 2 }));
        await assertFails(db.doc(docPath).update({ value: 2 }));
        await assertFails(db.doc(docPath).set({ user_id: OWNER, value: 0 }));
        await assertFails(db.doc(docPath).delete());
      });
    }
  });
}

describe("any other collection", () => {
  it("is closed by the default deny, to the owner of a matching uid too", async () => {
    await assertFails(as(OWNER).doc(`unlisted/${OWNER}`).get());
    await assertFails(as(OWNER).doc(`unlisted/${OWNER}`).set({ user_id: OWNER }));
  });
});
