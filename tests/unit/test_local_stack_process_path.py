"""`make run` starts the local stack as `python -m local.stack` from the repository root, with the layer NOT on
its path (only the function processes get it, as in Lambda). The suite's pythonpath would hide an import of
the layer in the stack process, so this runs the stack's modules in a clean interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import local.stack

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, sys
for name in {modules!r}:
    importlib.import_module(name)
from local.stack.stripe_webhooks import handled_event_types
assert "checkout.session.completed" in handled_event_types()
assert not any(name == "coursepay" or name.startswith("coursepay.") for name in sys.modules), "the layer leaked in"
"""


def test_the_stack_process_imports_without_the_layer_on_its_path() -> None:
    modules = [f"local.stack.{info.name}" for info in pkgutil.iter_modules(local.stack.__path__)
               if info.name != "__main__"]
    result = subprocess.run([sys.executable, "-c", PROBE.format(modules=modules)], cwd=ROOT,
                            env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
