"""Runs gcloud-tasks-emulator (PyPI, 0.6.2) bound to one host instead of every interface: usage
``tasks_launcher.py HOST PORT QUEUE [QUEUE...]`` with queues as ``projects/P/locations/L/queues/Q``.

It runs from its own virtualenv (.venv-tasks, made by `make setup`): the emulator needs protobuf<5, the project pins
protobuf 6. Its own ``start`` command binds ``[::]:PORT``; this launcher builds the same server and binds only HOST.
What the emulator does (and does not), as used by scripts/stack: README.md, "The Cloud Tasks stand-in".
"""

import logging
import sys
import time

import grpc
from gcloud_tasks_emulator import server as emulator
from gcloud_tasks_emulator.cloudtasks_pb2_grpc import add_CloudTasksServicer_to_server


def main() -> int:
    host, port, queues = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    def run(api: emulator.APIThread) -> None:
        from concurrent import futures

        api._httpd = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        add_CloudTasksServicer_to_server(emulator.Greeter(api._state), api._httpd)
        api._httpd.add_insecure_port(f"{host}:{api._port}")
        api._httpd.start()
        logging.info("[API] Cloud Tasks stand-in on %s:%s, queues %s", host, api._port, ", ".join(queues))
        api._is_running.set()
        while api._is_running.is_set():
            time.sleep(0.1)

    emulator.APIThread.run = run
    server = emulator.create_server(host, port, default_queue_names=queues, max_retries=-1)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
