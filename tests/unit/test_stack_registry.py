"""scripts/stack serves exactly the functions functions/main.py defines, each with its deployed signature."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.stack_script import load_stack_script

ROOT = Path(__file__).resolve().parents[2]


def _functions_in_main() -> dict[str, str]:
    tree = ast.parse((ROOT / "functions" / "main.py").read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Attribute) and decorator.attr in {"http", "cloud_event"}:
                    found[node.name] = "http" if decorator.attr == "http" else "cloudevent"
    return found


def test_stack_serves_every_function_with_its_signature() -> None:
    stack = load_stack_script()
    registered = {spec.name: spec.signature for spec in stack.FUNCTIONS}
    assert registered == _functions_in_main()
    assert len({spec.url_variable for spec in stack.FUNCTIONS}) == len(stack.FUNCTIONS)


def test_every_server_binds_loopback_only() -> None:
    stack = load_stack_script()
    for server in stack.servers():
        joined = " ".join(server.command)
        assert "0.0.0.0" not in joined, server.name
    assert stack.HOST == "127.0.0.1"


def test_the_tasks_stand_in_serves_the_functions_queue_on_loopback() -> None:
    stack = load_stack_script()
    env = stack.stack_env()
    tasks = next(server for server in stack.servers() if server.name == "tasks")
    assert tasks.command[0].endswith(".venv-tasks/bin/python")
    assert tasks.command[1].endswith("scripts/tasks_launcher.py")
    assert tasks.command[2:] == [stack.HOST, str(tasks.port), env["PLANNING_QUEUE"]]
    assert env["CLOUD_TASKS_EMULATOR_HOST"] == f"{stack.HOST}:{tasks.port}"
    worker = next(server for server in stack.servers() if server.name == "fn-plan_worker")
    assert env["PLAN_WORKER_URL"] == f"http://{stack.HOST}:{worker.port}"
    assert env["PLAN_WORKER_AUTH_BYPASS"] == "true"
