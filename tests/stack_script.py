"""scripts/stack as a module: it has no .py suffix (it is a command), so tests load it from its path."""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

STACK_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "stack"


@functools.cache
def load_stack_script() -> ModuleType:
    """The module, loaded once (tests that change its STATE do so with monkeypatch)."""
    loader = importlib.machinery.SourceFileLoader("stack_script", str(STACK_SCRIPT))
    spec = importlib.util.spec_from_loader("stack_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["stack_script"] = module  # dataclasses look their module up here
    loader.exec_module(module)
    return module
