"""One description drives deployment: every function of functions/main.py is deployed, with its trigger, by
``scripts/deploy`` (which cloudbuild.yaml runs), and scheduled jobs call their function with OIDC."""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import json
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
FIRESTORE_WRITTEN = "google.cloud.firestore.document.v1.written"
RUNTIME = "python314"  # the newest runtime every pinned dependency has wheels for (pip download --python-version 3.14)


def _load_deploy_script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("deploy_script", str(ROOT / "scripts" / "deploy"))
    spec = importlib.util.spec_from_loader("deploy_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["deploy_script"] = module
    loader.exec_module(module)
    return module


def _functions_in_main() -> dict[str, str]:
    found: dict[str, str] = {}
    for node in ast.parse((ROOT / "functions" / "main.py").read_text()).body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Attribute) and decorator.attr in {"http", "cloud_event"}:
                    found[node.name] = decorator.attr
    return found


def _dry_run(*extra: str) -> list[list[str]]:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "deploy"),
            "--project=proj-1",
            "--region=europe-west1",
            "--dry-run",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return [shlex.split(line) for line in result.stdout.splitlines() if line and not line.startswith("#")]


def _deploys(commands: list[list[str]]) -> dict[str, list[str]]:
    return {command[3]: command for command in commands if command[:3] == ["gcloud", "functions", "deploy"]}


def _make_targets() -> dict[str, tuple[list[str], list[str]]]:
    """The Makefile's rules: target -> (prerequisites, recipe lines)."""
    targets: dict[str, tuple[list[str], list[str]]] = {}
    current: list[str] | None = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("\t") and current is not None:
            current.append(line.strip())
            continue
        current = None
        head, colon, rest = line.partition(":")
        if colon and head and not head.startswith(("#", ".", " ")) and "=" not in head and not rest.startswith("="):
            current = []
            targets[head.strip()] = (rest.split(), current)
    return targets


def _flag(command: list[str], name: str) -> list[str]:
    return [part.split("=", 1)[1] for part in command if part.startswith(f"{name}=")]


@pytest.fixture(scope="module")
def description() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "deploy" / "functions.json").read_text())
    return data


def test_every_function_of_main_is_deployed_with_its_trigger() -> None:
    defined = _functions_in_main()
    deploys = _deploys(_dry_run())
    assert set(deploys) == set(defined)
    for name, kind in defined.items():
        command = deploys[name]
        assert "--gen2" in command
        assert f"--runtime={RUNTIME}" in command
        assert _flag(command, "--entry-point") == [name]
        if kind == "http":
            assert "--trigger-http" in command
            assert not _flag(command, "--trigger-event-filters")
        else:
            assert "--trigger-http" not in command
            filters = _flag(command, "--trigger-event-filters")
            assert f"type={FIRESTORE_WRITTEN}" in filters
            assert "database=(default)" in filters
            assert _flag(command, "--trigger-event-filters-path-pattern") == ["document=trips/{tripId}"]
            assert _flag(command, "--trigger-location")
            assert "--retry" in command, "without --retry a failed event delivery is dropped"


def test_the_description_covers_main_with_matching_trigger_types(description: dict[str, Any]) -> None:
    described = {spec["name"]: spec["trigger"]["type"] for spec in description["functions"]}
    for name, kind in _functions_in_main().items():
        assert name in described, f"{name} is in functions/main.py but not in deploy/functions.json"
        assert described[name] == ("http" if kind == "http" else "firestore"), name


def test_each_function_sets_resources_and_its_own_service_account(description: dict[str, Any]) -> None:
    deploys = _deploys(_dry_run())
    accounts = set()
    for name, command in deploys.items():
        for flag in ("--memory", "--cpu", "--timeout", "--min-instances", "--max-instances", "--concurrency"):
            assert len(_flag(command, flag)) == 1, (name, flag)
        (account,) = _flag(command, "--service-account")
        assert account.endswith("@proj-1.iam.gserviceaccount.com")
        accounts.add(account)
        assert "ENVIRONMENT=production" in _flag(command, "--set-env-vars")[0]
    assert len(accounts) == len(deploys)
    plan = description["functions"][[spec["name"] for spec in description["functions"]].index("plan_trip")]
    assert plan["memory"] in {"1Gi", "2Gi", "4Gi"}
    assert plan["timeout_seconds"] >= 120


def test_secrets_are_bound_from_secret_manager() -> None:
    plan = _deploys(_dry_run())["plan_trip"]
    (bindings,) = _flag(plan, "--set-secrets")
    assert "GOOGLE_MAPS_API_KEY=maps-api-key:latest" in bindings.split(",")


def test_scheduled_jobs_call_their_function_with_oidc_for_the_audience_it_checks() -> None:
    commands = _dry_run()
    deploys = _deploys(commands)
    jobs = {command[5]: command for command in commands if command[:3] == ["gcloud", "scheduler", "jobs"]}
    assert set(jobs) == {"cleanup-sessions", "backup-export"}
    assert _flag(jobs["cleanup-sessions"], "--schedule") == ["*/5 * * * *"]  # SESSION_CLEANUP_INTERVAL = 300
    assert _flag(jobs["backup-export"], "--schedule") == ["0 */6 * * *"]  # every 6 hours (seed recovery plan)
    for job, function in (("cleanup-sessions", "cleanup_sessions"), ("backup-export", "backup_export")):
        url = f"https://europe-west1-proj-1.cloudfunctions.net/{function}"
        assert _flag(jobs[job], "--uri") == [url]
        assert _flag(jobs[job], "--oidc-token-audience") == [url]
        (scheduler,) = _flag(jobs[job], "--oidc-service-account-email")
        env = _flag(deploys[function], "--set-env-vars")[0]
        assert f"SCHEDULER_AUDIENCE={url}" in env
        assert f"SCHEDULER_SERVICE_ACCOUNTS={scheduler}" in env
        assert "--no-allow-unauthenticated" in deploys[function]
        invokers = [c for c in commands if c[:4] == ["gcloud", "functions", "add-invoker-policy-binding", function]]
        assert [f"--member=serviceAccount:{scheduler}"] == [part for c in invokers for part in c if "member" in part]


def test_values_with_commas_use_gcloud_alternate_delimiter() -> None:
    (env,) = _flag(_deploys(_dry_run())["backup_export"], "--set-env-vars")
    assert env.startswith("^|^")
    assert "BACKUP_COLLECTIONS=trips,ai_sessions,users,share_links" in env.split("|")


def test_iam_grants_only_the_listed_roles(description: dict[str, Any]) -> None:
    commands = _dry_run("--iam")
    granted: dict[str, set[str]] = {}
    for command in commands:
        if "add-iam-policy-binding" in command:
            (member,) = _flag(command, "--member")
            granted.setdefault(member, set()).update(_flag(command, "--role"))
    health = granted["serviceAccount:fn-health@proj-1.iam.gserviceaccount.com"]
    assert health == {"roles/datastore.viewer"}
    backup = granted["serviceAccount:fn-backup-export@proj-1.iam.gserviceaccount.com"]
    assert "roles/datastore.importExportAdmin" in backup
    assert not any("owner" in role or "editor" in role for roles in granted.values() for role in roles)


def test_cloudbuild_tests_stages_and_deploys_through_the_description() -> None:
    build = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    steps = {step["id"]: step for step in build["steps"]}
    # The gate is `make test`, what CI runs: lint and the whole suite (unit, integration against the stand-ins, proof).
    script = " ".join(" ".join(steps["test"]["args"]).split())
    assert script.rstrip().endswith("&& make test"), script
    assert steps["test"]["entrypoint"] == "bash"
    assert "pytest" not in script, "no narrower test command beside make test"
    targets = _make_targets()
    assert {"setup", "lint"} <= set(targets["test"][0])
    recipe = " ".join(targets["test"][1])
    assert "$(STACK) up" in recipe
    assert "$(PY) -m pytest -q;" in recipe, "the whole suite: pytest's testpaths, no narrower path"
    lint = " ".join(targets["lint"][1])
    for check in ("ruff check .", "ruff format --check .", "mypy", "lint-imports"):
        assert check in lint, check
    stage = " ".join(steps["stage"]["args"])
    for staged in ("functions/main.py", "requirements.txt", "common"):
        assert staged in stage
    deploy = steps["deploy"]
    assert deploy["args"][0] == "scripts/deploy"
    assert "--source=/workspace/build" in deploy["args"]
    assert set(deploy["waitFor"]) == {"test", "rules-test", "stage"}
    # No function is deployed by hand beside the description.
    assert not any("deploy" in step.get("args", []) and step["id"] != "deploy" for step in build["steps"])
    assert "functions deploy" not in (ROOT / "cloudbuild.yaml").read_text()


def test_cloudbuild_runs_the_rules_suite_under_the_emulator_before_deploying() -> None:
    build = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    steps = {step["id"]: step for step in build["steps"]}
    rules = steps["rules-test"]
    script = " ".join(rules["args"])
    assert "cd tests/rules" in script
    assert "npm ci" in script
    assert script.rstrip().endswith("npm test")
    assert "openjdk-21" in script or "temurin-21" in rules["name"], "the Firestore emulator needs Java 21 or newer"
    assert "rules-test" in steps["deploy"]["waitFor"]
    # The suite's npm test is the emulator wrapping node:test, with the repository's firebase.json (and so its rules).
    package = json.loads((ROOT / "tests" / "rules" / "package.json").read_text())
    command = shlex.split(package["scripts"]["test"])
    assert command[:2] == ["firebase", "emulators:exec"]
    assert command[command.index("--only") + 1] == "firestore"
    assert command[command.index("--config") + 1] == "../../firebase.json"
    assert command[command.index("--project") + 1].startswith("demo-")
    assert command[-1].startswith("node --test ")
    for test_file in command[-1].split()[2:]:
        assert (ROOT / "tests" / "rules" / test_file).is_file(), test_file
    assert set(package["devDependencies"]) == {"@firebase/rules-unit-testing", "firebase", "firebase-tools"}
    assert all(version[0].isdigit() for version in package["devDependencies"].values()), "pin exact versions"
    lock = json.loads((ROOT / "tests" / "rules" / "package-lock.json").read_text())
    assert lock["packages"][""]["devDependencies"] == package["devDependencies"], "package-lock.json is stale"


def test_interval_schedules_become_cron() -> None:
    deploy = _load_deploy_script()
    assert deploy.interval_to_cron(60) == "* * * * *"
    assert deploy.interval_to_cron(300) == "*/5 * * * *"
    assert deploy.interval_to_cron(7200) == "0 */2 * * *"
    with pytest.raises(ValueError, match="whole number of minutes"):
        deploy.interval_to_cron(90)
    with pytest.raises(ValueError, match="evenly"):
        deploy.interval_to_cron(420)


def test_firebase_json_deploys_rules_and_indexes() -> None:
    firebase = json.loads((ROOT / "firebase.json").read_text())
    assert firebase["firestore"] == {"rules": "firestore.rules", "indexes": "firestore.indexes.json"}


# ------------------------------------------------------------------------------ retries, idempotency, Firestore


def test_scheduler_jobs_retry_with_back_off_and_deadlines(description: dict[str, Any]) -> None:
    commands = _dry_run()
    jobs = {command[5]: command for command in commands if command[:4] == ["gcloud", "scheduler", "jobs", "create"]}
    schedules = {
        spec["name"].replace("_", "-"): spec["schedule"] for spec in description["functions"] if "schedule" in spec
    }
    assert set(jobs) == set(schedules)
    for job, command in jobs.items():
        retry = schedules[job]["retry"]
        (attempts,) = _flag(command, "--max-retry-attempts")
        assert int(attempts) == retry["max_attempts"] >= 1
        assert _flag(command, "--min-backoff") == [retry["min_backoff"]]
        assert _flag(command, "--max-backoff") == [retry["max_backoff"]]
        assert _flag(command, "--max-doublings") == [str(retry["max_doublings"])]
        assert _flag(command, "--max-retry-duration") == [retry["max_retry_duration"]]
        (deadline,) = _flag(command, "--attempt-deadline")
        function = next(spec for spec in description["functions"] if spec["name"].replace("_", "-") == job)
        # The scheduler waits a little longer than the function may run, and retries end before the next tick.
        assert int(deadline.rstrip("s")) > function["timeout_seconds"]
        interval = schedules[job].get("interval_seconds")
        assert interval
        assert int(retry["max_retry_duration"].rstrip("s")) < interval


def test_the_backup_interval_is_configurable() -> None:
    commands = _dry_run("--backup-interval-hours=4")
    (job,) = [c for c in commands if c[:4] == ["gcloud", "scheduler", "jobs", "create"] and c[5] == "backup-export"]
    assert _flag(job, "--schedule") == ["0 */4 * * *"]


def test_firestore_pitr_rules_indexes_and_ttl_are_deployed_by_the_same_command() -> None:
    commands = _dry_run()
    indexes = json.loads((ROOT / "firestore.indexes.json").read_text())
    assert [
        "gcloud",
        "firestore",
        "databases",
        "update",
        "--database=(default)",
        "--project=proj-1",
        "--enable-pitr",
    ] in commands
    rest = [command for command in commands if command[0] == "rest"]
    assert ["rest", "POST", "https://firebaserules.googleapis.com/v1/projects/proj-1/rulesets"] in rest
    assert ["rest", "POST", "https://firebaserules.googleapis.com/v1/projects/proj-1/releases"] in rest
    created = [c for c in commands if c[:5] == ["gcloud", "firestore", "indexes", "composite", "create"]]
    assert len(created) == len(indexes["indexes"])
    for index, command in zip(indexes["indexes"], created, strict=True):
        assert _flag(command, "--collection-group") == [index["collectionGroup"]]
        assert len(_flag(command, "--field-config")) == len(index["fields"])
    ttls = {
        (c[5], _flag(c, "--collection-group")[0])
        for c in commands
        if c[:5] == ["gcloud", "firestore", "fields", "ttls", "update"]
    }
    expected = {(o["fieldPath"], o["collectionGroup"]) for o in indexes["fieldOverrides"] if o.get("ttl")}
    assert ttls == expected
    assert len(expected) >= 6
    for command in commands:
        if command[:5] == ["gcloud", "firestore", "fields", "ttls", "update"]:
            assert "--enable-ttl" in command
    overrides = [c for c in commands if c[:5] == ["gcloud", "firestore", "indexes", "fields", "update"]]
    assert len(overrides) == len(indexes["fieldOverrides"])
    # Firestore is set up before the functions that need its indexes are deployed.
    first_function = next(i for i, c in enumerate(commands) if c[:3] == ["gcloud", "functions", "deploy"])
    assert max(commands.index(c) for c in created) < first_function


def test_observability_is_created_from_its_declaration(tmp_path: Path) -> None:
    commands = _dry_run(f"--work-dir={tmp_path}")
    declared = json.loads((ROOT / "deploy" / "observability.json").read_text())
    metrics = [c for c in commands if c[:4] == ["gcloud", "logging", "metrics", "create"]]
    assert [c[4] for c in metrics] == [f"trip_planner_{m['name']}" for m in declared["metrics"]]
    for command in metrics:
        (file,) = _flag(command, "--config-from-file")
        resource = json.loads(Path(file).read_text())
        assert resource["name"] == command[4]
        assert resource["filter"].startswith('resource.type="cloud_run_revision"')
        kind = resource["metricDescriptor"]["valueType"]
        assert kind in {"DISTRIBUTION", "INT64"}
        if kind == "DISTRIBUTION":
            assert resource["valueExtractor"].startswith("EXTRACT(")
            assert resource["bucketOptions"]
        assert {label["key"] for label in resource["metricDescriptor"]["labels"]} == set(resource["labelExtractors"])
    policies = [c for c in commands if c[:5] == ["gcloud", "alpha", "monitoring", "policies", "create"]]
    assert len(policies) == len(declared["alert_policies"]) == 4
    names = set()
    for command in policies:
        (file,) = _flag(command, "--policy-from-file")
        policy = json.loads(Path(file).read_text())
        names.add(policy["displayName"])
        threshold = policy["conditions"][0]["conditionThreshold"]
        assert threshold["duration"].endswith("s")
        for metric in ("http_5xx", "plans", "plan_duration"):
            if metric in threshold["filter"]:
                assert f"logging.googleapis.com/user/trip_planner_{metric}" in threshold["filter"]
    five_xx = json.loads(Path(_flag(policies[0], "--policy-from-file")[0]).read_text())["conditions"][0]
    threshold = five_xx["conditionThreshold"]
    assert threshold["thresholdValue"] == 0.05
    assert threshold["duration"] == "300s"
    assert "trip_planner_http_responses" in threshold["denominatorFilter"]
    assert any("p95" in name for name in names)
    assert any("failure rate" in name for name in names)
    (uptime,) = [c for c in commands if c[:4] == ["gcloud", "monitoring", "uptime", "create"]]
    assert _flag(uptime, "--resource-labels") == ["host=europe-west1-proj-1.cloudfunctions.net,project_id=proj-1"]
    assert _flag(uptime, "--path") == ["/health"]
    (board,) = [c for c in commands if c[:4] == ["gcloud", "monitoring", "dashboards", "create"]]
    tiles = json.loads(Path(_flag(board, "--config-from-file")[0]).read_text())["mosaicLayout"]["tiles"]
    assert len(tiles) == len(declared["dashboard"]["tiles"])
    # The uptime check needs health to answer without a token.
    assert "--allow-unauthenticated" in _deploys(commands)["health"]


FAKE_GCLOUD = r"""#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_GCLOUD_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
exists = os.environ["FAKE_GCLOUD_EXISTS"] == "1"
if args[:2] == ["auth", "print-access-token"]:
    print("test-token")
elif "describe" in args:
    sys.exit(0 if exists else 1)
elif args[:4] == ["firestore", "indexes", "composite", "list"]:
    print(os.environ["FAKE_GCLOUD_INDEXES"] if exists else "[]")
elif "list" in args or "list-configs" in args:
    if exists:
        print("projects/proj-1/things/existing-1")
"""


def _fake_rules_api(exists: bool, rules: str) -> tuple[Any, list[tuple[str, str]]]:
    import http.server
    import threading

    seen: list[tuple[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            seen.append(("GET", self.path))
            if not exists:
                self._answer(404, {"error": {"code": 404}})
            elif self.path.endswith("/releases/cloud.firestore"):
                self._answer(200, {"name": "r", "rulesetName": "projects/proj-1/rulesets/r1"})
            else:
                self._answer(200, {"source": {"files": [{"name": "firestore.rules", "content": rules}]}})

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            self.rfile.read(length)
            seen.append(("POST", self.path))
            self._answer(200, {"name": "projects/proj-1/rulesets/new"})

        def do_PATCH(self) -> None:
            self.do_POST()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def _index_listing() -> str:
    indexes = json.loads((ROOT / "firestore.indexes.json").read_text())["indexes"]
    listed = []
    for number, index in enumerate(indexes):
        fields = [*index["fields"], {"fieldPath": "__name__", "order": "ASCENDING"}]
        name = f"projects/proj-1/databases/(default)/collectionGroups/{index['collectionGroup']}/indexes/i{number}"
        listed.append({"name": name, "queryScope": index["queryScope"], "fields": fields, "state": "READY"})
    return json.dumps(listed)


def _real_run(tmp_path: Path, exists: bool) -> tuple[list[list[str]], list[tuple[str, str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(FAKE_GCLOUD.replace("#!/usr/bin/env python3", f"#!{sys.executable}"))
    gcloud.chmod(0o755)
    log = tmp_path / f"gcloud-{exists}.log"
    server, seen = _fake_rules_api(exists, (ROOT / "firestore.rules").read_text())
    try:
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "FAKE_GCLOUD_LOG": str(log),
            "FAKE_GCLOUD_EXISTS": "1" if exists else "0",
            "FAKE_GCLOUD_INDEXES": _index_listing(),
            "FIREBASE_RULES_API": f"http://127.0.0.1:{server.server_address[1]}",
        }
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "deploy"), "--project=proj-1", "--iam", f"--work-dir={tmp_path}"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.shutdown()
    return [json.loads(line) for line in log.read_text().splitlines()], seen


def test_a_first_deploy_creates_and_a_second_one_updates(tmp_path: Path) -> None:
    """Every named resource is probed: on a fresh project it is created, on a deployed one updated (no create,
    which gcloud refuses for an existing job, metric or account), and the unchanged rules are not re-released."""
    first, first_rest = _real_run(tmp_path, exists=False)
    second, second_rest = _real_run(tmp_path, exists=True)

    def verbs(calls: list[list[str]], verb: str) -> list[list[str]]:
        return [call for call in calls if verb in call]

    assert len(verbs(first, "create")) > 20
    for call in verbs(first, "update"):
        assert call[:2] == ["firestore", "databases"] or call[:3] in (
            ["firestore", "indexes", "fields"],
            ["firestore", "fields", "ttls"],
        )
    assert not verbs(second, "create"), verbs(second, "create")
    updated = {tuple(call[:3]) for call in verbs(second, "update")}
    assert ("scheduler", "jobs", "update") in updated
    assert ("logging", "metrics", "update") in updated
    assert ("alpha", "monitoring", "policies") in updated
    assert ("monitoring", "dashboards", "update") in updated
    assert ("monitoring", "uptime", "update") in updated
    assert ("POST", "/v1/projects/proj-1/rulesets") in first_rest
    assert ("POST", "/v1/projects/proj-1/releases") in first_rest
    assert [method for method, _ in second_rest] == ["GET", "GET"]  # rules unchanged: nothing released
    # Both runs deploy every function (gcloud functions deploy is itself create-or-update).
    assert len([c for c in second if c[:2] == ["functions", "deploy"]]) == len(_functions_in_main())


def test_cloudbuild_tests_on_the_deployed_python_with_node_for_the_stand_ins() -> None:
    build = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    steps = {step["id"]: step for step in build["steps"]}
    description = json.loads((ROOT / "deploy" / "functions.json").read_text())
    assert description["runtime"] == RUNTIME
    version = RUNTIME.removeprefix("python")
    # Debian trixie, whose nodejs package is 20.x: the stand-ins (package.json "engines") need Node 20+ and npm.
    assert steps["test"]["name"] == f"python:{version[0]}.{version[1:]}-slim-trixie"
    script = " ".join(" ".join(steps["test"]["args"]).split())
    installed = script.split("apt-get install", 1)[1].split("&&", 1)[0].split()
    assert {"make", "nodejs", "npm"} <= set(installed)
    package = json.loads((ROOT / "package.json").read_text())
    assert package["engines"]["node"] == ">=20"
    assert ">= 20" in script.split("node -e", 1)[1].split("&&", 1)[0], "the step stops on a Node older than 20"
    assert script.index("node -e") < script.index("make test")


def test_the_planning_queue_is_created_before_the_functions_and_only_its_identity_calls_the_worker(
    description: dict[str, Any],
) -> None:
    commands = _dry_run("--iam")
    queue_commands = [command for command in commands if command[:3] == ["gcloud", "tasks", "queues"]]
    (create,) = queue_commands
    assert create[3:5] == ["create", "planning"]
    assert _flag(create, "--location") == ["europe-west1"]
    (worker_spec,) = [spec for spec in description["functions"] if spec["name"] == "plan_worker"]
    queue = worker_spec["queue"]
    assert _flag(create, "--max-dispatches-per-second") == [str(queue["max_dispatches_per_second"])]
    assert _flag(create, "--max-attempts") == [str(queue["max_attempts"])]
    assert _flag(create, "--min-backoff") == [queue["min_backoff"]]
    deploys = _deploys(commands)
    assert commands.index(create) < commands.index(deploys["plan_trip"])
    tasks_sa = "tasks-invoker@proj-1.iam.gserviceaccount.com"
    worker_url = "https://europe-west1-proj-1.cloudfunctions.net/plan_worker"
    trip_env = _flag(deploys["plan_trip"], "--set-env-vars")[0]
    assert "PLANNING_QUEUE=projects/proj-1/locations/europe-west1/queues/planning" in trip_env
    assert f"PLAN_WORKER_URL={worker_url}" in trip_env
    assert f"PLAN_WORKER_SERVICE_ACCOUNT={tasks_sa}" in trip_env
    worker_env = _flag(deploys["plan_worker"], "--set-env-vars")[0]
    assert f"PLAN_WORKER_URL={worker_url}" in worker_env
    assert f"PLAN_WORKER_SERVICE_ACCOUNT={tasks_sa}" in worker_env
    assert "--no-allow-unauthenticated" in deploys["plan_worker"]
    invokers = [c for c in commands if c[:4] == ["gcloud", "functions", "add-invoker-policy-binding", "plan_worker"]]
    assert [part for c in invokers for part in c if "member" in part] == [f"--member=serviceAccount:{tasks_sa}"]
    acting = [c for c in commands if c[:4] == ["gcloud", "iam", "service-accounts", "add-iam-policy-binding"]]
    assert any(
        c[4] == tasks_sa and "--member=serviceAccount:fn-plan-trip@proj-1.iam.gserviceaccount.com" in c for c in acting
    )
