// Starts the Firestore stand-in (npm @firestore-emulator/server) bound to 127.0.0.1 only.
// Its own start() binds every interface, so we bind its gRPC server ourselves.
// Usage: node scripts/firestore_launcher.js [port]   (default: $FIRESTORE_PORT or 8080)
"use strict";
const { ServerCredentials } = require("@grpc/grpc-js");
const { FirestoreServer } = require("@firestore-emulator/server");

const port = Number(process.argv[2] || process.env.FIRESTORE_PORT || 8080);
const host = process.env.FIRESTORE_BIND_HOST || "127.0.0.1";
const emulator = new FirestoreServer();
const grpcServer = emulator.server;

grpcServer.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, boundPort) => {
  if (err) {
    console.error(`firestore stand-in: cannot bind ${host}:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`firestore stand-in listening on ${host}:${boundPort}`);
});

function stop() {
  grpcServer.forceShutdown();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
