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
        assert "--runtime=python312" in command
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
    assert _flag(jobs["backup-export"], "--schedule") == ["0 3 * * *"]
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
    assert "BACKUP_COLLECTIONS=trips,ai_sessions,users" in env.split("|")


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
    assert "pytest tests/unit" in " ".join(steps["test"]["args"])
    assert "ruff check" in " ".join(steps["test"]["args"])
    assert "mypy" in " ".join(steps["test"]["args"])
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
