// Drives the Firebase JS SDK (npm `firebase`, modular API, as an app uses it) against the local stack.
// The Python test seeds data and makes server-side writes when asked: this script prints one JSON line per step,
// `{"need": NAME}` when it waits for the test to write something (the test answers with a line on stdin), and
// `{"result": {...}}` at the end. Any step that does not happen in time fails the scenario with its name.
// Environment: FIRESTORE_EMULATOR_HOST, FIREBASE_AUTH_EMULATOR_HOST, PROJECT, UID_EMAIL.
import { createInterface } from "node:readline";
import { initializeApp } from "firebase/app";
import { connectAuthEmulator, createUserWithEmailAndPassword, getAuth } from "firebase/auth";
import {
  collection,
  connectFirestoreEmulator,
  doc,
  getDoc,
  getDocs,
  getFirestore,
  limit,
  onSnapshot,
  query,
  setDoc,
  where,
} from "firebase/firestore";

const STEP_TIMEOUT_MS = Number(process.env.STEP_TIMEOUT_MS || 10000);
const [firestoreHost, firestorePort] = process.env.FIRESTORE_EMULATOR_HOST.split(":");
const app = initializeApp({ projectId: process.env.PROJECT, apiKey: "local-test-key" });
const auth = getAuth(app);
connectAuthEmulator(auth, `http://${process.env.FIREBASE_AUTH_EMULATOR_HOST}`, { disableWarnings: true });
const db = getFirestore(app);
connectFirestoreEmulator(db, firestoreHost, Number(firestorePort));

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const emit = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function within(step, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`step "${step}" did not complete within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function askTest(name) {
  emit({ need: name });
  const answer = await within(`the test's answer to ${name}`, lines.next());
  if (answer.done || answer.value.trim() !== "ok") throw new Error(`the test did not do ${name}`);
}

/** A listener that keeps every snapshot and resolves waits when a snapshot from the server satisfies them. */
function watch(ref) {
  const snapshots = [];
  const waiters = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      const match = snapshots.find((snapshot, index) => index >= waiter.from && !snapshot.fromCache && waiter.test(snapshot));
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  const unsubscribe = onSnapshot(
    ref,
    { includeMetadataChanges: true },
    (snapshot) => {
      const docs = snapshot.docs ? snapshot.docs : snapshot.exists() ? [snapshot] : [];
      snapshots.push({
        fromCache: snapshot.metadata.fromCache,
        ids: docs.map((d) => d.id).sort(),
        data: Object.fromEntries(docs.map((d) => [d.id, d.data()])),
      });
      check();
    },
    (error) => waiters.forEach((waiter) => waiter.reject(error)),
  );
  return {
    snapshots,
    unsubscribe,
    until(step, test, from = 0) {
      const promise = new Promise((resolve, reject) => {
        waiters.push({ test, from, resolve, reject });
        check();
      });
      return within(step, promise);
    },
  };
}

const result = {};
try {
  const credential = await within(
    "sign-up on the Auth emulator",
    createUserWithEmailAndPassword(auth, process.env.UID_EMAIL, "correct-horse-9"),
  );
  const uid = credential.user.uid;
  emit({ uid });
  await askTest("seed");

  const tripsOfUser = query(collection(db, "trips"), where("user_id", "==", uid), limit(50));
  const listQuery = watch(tripsOfUser);
  const first = await listQuery.until("first server snapshot of the trips query", (s) => s.ids.length === 2);
  result.queryFirstIds = first.ids;

  const listDoc = watch(doc(db, "trips", "a1"));
  const docFirst = await listDoc.until("a second listener on the same instance gets a server snapshot", (s) => s.ids.length === 1);
  result.secondListenerStatus = docFirst.data.a1.status;

  await askTest("update-a1-add-a3-and-other-user");
  const afterUpdate = await listQuery.until(
    "the query sees a1 updated and a3 added",
    (s) => s.ids.length === 3 && s.data.a1.status === "ready",
  );
  result.queryAfterUpdateIds = afterUpdate.ids;
  const docUpdated = await listDoc.until("the document listener sees a1 updated", (s) => s.data.a1?.status === "ready");
  result.docListenerStatus = docUpdated.data.a1.status;

  listDoc.unsubscribe();
  const a2 = await within("getDoc after an unsubscribe", getDoc(doc(db, "trips", "a2")));
  result.getDocAfterUnsubscribe = { exists: a2.exists(), fromCache: a2.metadata.fromCache, title: a2.data()?.title };
  const listed = await within("getDocs after an unsubscribe", getDocs(tripsOfUser));
  result.getDocsAfterUnsubscribe = listed.docs.map((d) => d.id).sort();

  const again = watch(doc(db, "trips", "a2"));
  const againFirst = await again.until("a new listener after an unsubscribe gets a server snapshot", (s) => s.ids.length === 1);
  result.newListenerAfterUnsubscribe = againFirst.ids;
  again.unsubscribe();

  const beforeUnrelated = listQuery.snapshots.length;
  await askTest("unrelated-writes");
  const marker = await listQuery.until(
    "the query sees the marker write after the unrelated writes",
    (s) => s.data.a2?.marker === true,
    beforeUnrelated,
  );
  result.markerAfterUnrelatedWrites = marker.data.a2.marker;

  await askTest("delete-a3");
  const afterDelete = await listQuery.until("the query sees a3 deleted", (s) => s.ids.length === 2 && !s.ids.includes("a3"));
  result.queryAfterDeleteIds = afterDelete.ids;
  listQuery.unsubscribe();

  try {
    await within("a client write is refused", setDoc(doc(db, "trips", "client-write"), { user_id: uid, title: "mine" }));
    result.clientWrite = "accepted";
  } catch (error) {
    result.clientWrite = error.code ?? String(error);
  }
  emit({ result });
  process.exit(0);
} catch (error) {
  emit({ error: String(error?.message ?? error), result });
  process.exit(1);
}
