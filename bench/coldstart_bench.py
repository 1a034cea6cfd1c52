"""Cold start of each function: a fresh interpreter imports functions/main.py as functions-framework does, then
serves one request that runs the function's lazy imports (not a test).

Run from the repo root: ``.venv/bin/python -m bench.coldstart_bench [--runs 3]``. For each function, ``--runs``
subprocesses each measure with ``time.perf_counter``: importing functions_framework, importing the source module,
and the first call (an unauthenticated or empty request: it imports what the function needs, then is refused
before any network call, so the number is import and set-up time). The baseline is a bare functions-framework
``hello`` function loaded the same way. It also counts the modules loaded (``sys.modules``, and those of ``common``)
after importing main.py and after the first call: each function's import closure.

What google-cloud-logging's ``StructuredLogHandler`` would add to a cold start, ``logging_handler_ms``: the numbers
on which ``common/foundation/log.py`` writes its lines itself (the package is not a runtime dependency; install it to
measure). Each child starts with a stand-in ``google.cloud.logging.handlers`` module (a plain ``StreamHandler``),
so the function loads everything it needs except google-cloud-logging even if it imported the handler; after the
first call the stand-in is dropped and the real handler's import is timed, on top of what the function loaded.

Uses the stack's variables when ``.stack/env`` exists (the settings need a project); no server is contacted except
where a function probes one (health: Firestore). Prints a table and writes ``bench/out/coldstart.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from scripts.envfile import STACK_ENV_FILE, read_env_file

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_PATH = ROOT / "bench" / "out" / "coldstart.json"

# function -> (kind, method, path): the first request each one gets.
FUNCTIONS: dict[str, tuple[str, str, str]] = {
    "health": ("http", "GET", "/"),
    "plan_trip": ("http", "POST", "/"),
    "trips": ("http", "GET", "/trips"),
    "user_data": ("http", "GET", "/"),
    "cleanup_sessions": ("http", "POST", "/"),
    "backup_export": ("http", "POST", "/"),
    "enrich_places": ("cloudevent", "POST", "/"),
    "trip_page": ("http", "GET", "/t/" + "x" * 32),
}

HELLO = textwrap.dedent(
    """
    import functions_framework


    @functions_framework.http
    def hello(request):
        return "hello"
    """
)

CHILD = textwrap.dedent(
    """
    import importlib.util, json, logging, sys, time, types
    stand_in = types.ModuleType("google.cloud.logging.handlers")
    class StructuredLogHandler(logging.StreamHandler):
        def __init__(self, *, labels=None, stream=None, project_id=None, json_encoder_cls=None, **kwargs):
            super().__init__(stream)
    stand_in.StructuredLogHandler = StructuredLogHandler
    sys.modules["google.cloud.logging.handlers"] = stand_in

    def loaded():
        names = [name for name in sys.modules if name != "google.cloud.logging.handlers"]
        return len(names), sum(1 for name in names if name == "common" or name.startswith("common."))

    started = time.perf_counter()
    import functions_framework
    framework_done = time.perf_counter()
    framework_modules = loaded()
    source, target, kind, method, path = sys.argv[1:6]
    spec = importlib.util.spec_from_file_location("main", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules["main"] = module
    spec.loader.exec_module(module)
    imported = time.perf_counter()
    import_modules = loaded()
    function = getattr(module, target)
    status = None
    if kind == "http":
        import flask
        app = flask.Flask("coldstart")
        with app.test_request_context(path, method=method, json={} if method != "GET" else None):
            response = function(flask.request)
            status = getattr(response, "status_code", 200)
    else:
        from cloudevents.http import CloudEvent
        event = CloudEvent(
            {"type": "google.cloud.firestore.document.v1.written", "source": "//coldstart", "id": "coldstart-1",
             "subject": "documents/trips/coldstart"},
            b"",
        )
        try:
            function(event)
            status = "ok"
        except Exception as error:  # an empty event may be refused; the imports have run
            status = type(error).__name__
    first_call = time.perf_counter()
    call_modules = loaded()
    del sys.modules["google.cloud.logging.handlers"]
    already = sorted(name for name in sys.modules if name.startswith("google.cloud.logging"))
    handler_started, handler_cpu_started = time.perf_counter(), time.process_time()
    try:
        from google.cloud.logging.handlers import StructuredLogHandler
        handler_done, handler_cpu_done = time.perf_counter(), time.process_time()
        handler_ms = (handler_done - handler_started) * 1000
        handler_cpu_ms = (handler_cpu_done - handler_cpu_started) * 1000
    except ImportError:  # google-cloud-logging is not installed
        handler_ms = handler_cpu_ms = None
    print(json.dumps({
        "framework_ms": (framework_done - started) * 1000,
        "import_ms": (imported - framework_done) * 1000,
        "first_call_ms": (first_call - imported) * 1000,
        "total_ms": (first_call - started) * 1000,
        "logging_handler_ms": handler_ms,
        "logging_handler_cpu_ms": handler_cpu_ms,
        "logging_handler_loaded_before": already,
        "status": status,
        "modules_framework": framework_modules[0],
        "modules_import": import_modules[0],
        "common_import": import_modules[1],
        "modules_first_call": call_modules[0],
        "common_first_call": call_modules[1],
    }))
    """
)


def measure(source: Path, target: str, kind: str, method: str, path: str, env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(source), target, kind, method, path],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{") and '"total_ms"' in line]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"{target}: exit {result.returncode}\n{result.stderr[-2000:]}")
    return dict(json.loads(lines[-1]))


# sys.modules sizes (without the logging stand-in): after importing functions_framework, after importing main.py
# (calling nothing), after the first call; ``common_*`` counts the modules of the ``common`` package among them.
MODULE_KEYS = ("modules_framework", "modules_import", "common_import", "modules_first_call", "common_first_call")


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("framework_ms", "import_ms", "first_call_ms", "total_ms")
    medians: dict[str, Any] = {key: round(statistics.median(run[key] for run in runs), 1) for key in keys}
    for key in ("logging_handler_ms", "logging_handler_cpu_ms"):
        measured = [run[key] for run in runs if run[key] is not None]
        medians[key] = round(statistics.median(measured), 1) if measured else None
    spread = [round(run["logging_handler_ms"], 1) for run in runs if run["logging_handler_ms"] is not None]
    return (
        medians
        | {
            "logging_handler_runs_ms": spread,
            "logging_loaded_before": sorted({name for run in runs for name in run["logging_handler_loaded_before"]}),
            "status": runs[-1]["status"],
        }
        | {key: runs[-1][key] for key in MODULE_KEYS}
    )  # the same in every run of one tree


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    parser.add_argument("--only", help="comma-separated function names (default: all)")
    arguments = parser.parse_args()
    stack = read_env_file(STACK_ENV_FILE) if STACK_ENV_FILE.exists() else {"GOOGLE_CLOUD_PROJECT": "demo-coldstart"}
    # The scheduled jobs must refuse the call (no OIDC token) rather than run a real cleanup or backup of the stack.
    env = {**os.environ, **stack, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "ERROR", "SCHEDULER_AUTH_BYPASS": "false"}
    env |= {"SCHEDULER_AUDIENCE": "https://coldstart.invalid", "SCHEDULER_SERVICE_ACCOUNTS": "job@coldstart.invalid"}
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        hello = Path(scratch) / "hello.py"
        hello.write_text(HELLO, encoding="utf-8")
        targets = [("hello (bare functions-framework)", hello, "hello", ("http", "GET", "/"))]
        chosen = set(arguments.only.split(",")) if arguments.only else set(FUNCTIONS)
        targets += [
            (name, ROOT / "functions" / "main.py", name, spec) for name, spec in FUNCTIONS.items() if name in chosen
        ]
        for label, source, target, (kind, method, path) in targets:
            runs = [measure(source, target, kind, method, path, env) for _ in range(arguments.runs)]
            results[label] = median_of(runs)
    baseline = results["hello (bare functions-framework)"]["total_ms"]
    print(
        f"{'function':<34} {'framework':>9} {'import':>8} {'1st call':>8} {'total':>8} {'vs hello':>8} "
        f"{'+logging':>8} {'(cpu)':>6} {'modules':>15} {'common':>9}  first answer"
    )
    for label, row in results.items():
        row["over_hello_ms"] = round(row["total_ms"] - baseline, 1)
        modules = f"{row['modules_import']}->{row['modules_first_call']}"
        common = f"{row['common_import']}->{row['common_first_call']}"
        print(
            f"{label:<34} {row['framework_ms']:>9.1f} {row['import_ms']:>8.1f} {row['first_call_ms']:>8.1f} "
            f"{row['total_ms']:>8.1f} {row['over_hello_ms']:>+8.1f} {_ms(row['logging_handler_ms']):>8} "
            f"{_ms(row['logging_handler_cpu_ms']):>6} {modules:>15} {common:>9}  {row['status']}"
        )
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {"runs_per_function": arguments.runs, "unit": "ms, median of runs", "functions": results}
    print(
        "+logging: importing google.cloud.logging's StructuredLogHandler after what the function loaded (median, "
        "wall clock; cpu: process time, less sensitive to a busy machine; n/a: google-cloud-logging not installed)"
    )
    print("modules, common: how many are loaded after importing main.py (calling nothing) -> after the first call")
    arguments.output.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    print(f"wrote {arguments.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
