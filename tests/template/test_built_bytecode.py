"""The layer and every function ship hash-based bytecode for the runtime's Python.

Lambda's code directory is read-only: a module without a valid ``.pyc`` beside it is compiled from source on
every cold start (and the result thrown away). The build recipes (``layers/common/Makefile``,
``functions/Makefile``, ``BuildMethod: makefile`` in template.yaml) compile everything with
``--invalidation-mode unchecked-hash``; a timestamp-based ``.pyc`` would not do, since the timestamps of the
unzipped files are not the ones it was compiled against. The first tests check the recipes without building;
the last one checks what ``make build`` (which ``make test`` runs first) actually produced.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.stack.sam import function_properties
from local.stack.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(name for name, resource in RESOURCES.items() if resource["Type"] == "AWS::Serverless::Function")
LAYER = "CommonLayer"
BUILT = ROOT / ".aws-sam/build"
RUNTIME = TEMPLATE["Globals"]["Function"]["Runtime"]  # "python3.13"
RUNTIME_VERSION = RUNTIME.removeprefix("python")
CACHE_TAG = "cpython-" + RUNTIME_VERSION.replace(".", "")
HASH_BASED = 0b01  # PEP 552 flags word: bit 0 = hash-based, bit 1 = check the source on import


def makefile_of(logical_id: str) -> Path:
    resource = RESOURCES[logical_id]
    properties = resource["Properties"]
    context = resource["Metadata"].get("ContextPath") or properties.get("CodeUri") or properties["ContentUri"]
    return ROOT / context / "Makefile"


def test_every_function_uses_the_runtime_and_the_layer_its_recipe_compiles_for() -> None:
    assert RUNTIME == "python3.13"
    assert RESOURCES[LAYER]["Properties"]["CompatibleRuntimes"] == [RUNTIME]
    for function in FUNCTIONS:
        assert function_properties(TEMPLATE, function)["Runtime"] == RUNTIME, function


@pytest.mark.parametrize("logical_id", [LAYER, *FUNCTIONS])
def test_the_build_recipe_compiles_hash_based_bytecode(logical_id: str, tmp_path: Path) -> None:
    assert RESOURCES[logical_id]["Metadata"]["BuildMethod"] == "makefile"
    # A dry run: the target exists and its recipe ends in a hash-based compile of the artifact.
    # --no-print-directory: under `make test` a nested make would print "Entering directory" lines around the plan
    plan = subprocess.run(["make", "--dry-run", "--no-print-directory", "--makefile", str(makefile_of(logical_id)),
                           f"build-{logical_id}"],
                          cwd=tmp_path, env={**os.environ, "ARTIFACTS_DIR": str(tmp_path / "artifact")},
                          capture_output=True, text=True, check=True).stdout
    last_step = plan.strip().splitlines()[-1]
    assert "-m compileall" in last_step, plan
    assert "--invalidation-mode unchecked-hash" in last_step, plan
    assert str(tmp_path / "artifact") in last_step, plan


def built_directories() -> dict[str, Path]:
    built_template = load_template(BUILT / "template.yaml")
    directories = {}
    for logical_id, resource in built_template["Resources"].items():
        properties = resource.get("Properties") or {}
        if logical_id == LAYER:
            directories[logical_id] = BUILT / properties["ContentUri"] / "python"
        elif resource["Type"] == "AWS::Serverless::Function":
            directories[logical_id] = BUILT / properties["CodeUri"]
    return directories


def bytecode_problem(source: Path) -> str | None:
    """Why ``source`` would be compiled at import in a read-only directory (None: its .pyc is valid)."""
    compiled = source.parent / "__pycache__" / f"{source.stem}.{CACHE_TAG}.pyc"
    if not compiled.exists():
        return "no .pyc"
    header = compiled.read_bytes()[:16]
    if sys.version.startswith(RUNTIME_VERSION + ".") and header[:4] != importlib.util.MAGIC_NUMBER:
        return "compiled by another Python"
    if not int.from_bytes(header[4:8], "little") & HASH_BASED:
        return "timestamp-based .pyc"
    if header[8:16] != importlib.util.source_hash(source.read_bytes()):
        return ".pyc of another version of the source"
    return None


def test_the_built_artifact_ships_valid_bytecode_for_every_module() -> None:
    if not (BUILT / "template.yaml").exists():
        pytest.skip("no sam build artifact in .aws-sam/build: run `make build` (`make test` runs it first)")
    directories = built_directories()
    assert set(directories) == {LAYER, *FUNCTIONS}
    # Every module of the repository is in the artifact, so the check below cannot pass on a partial build.
    expected = {(LAYER, path.relative_to(ROOT / "layers/common")) for path in (ROOT / "layers/common").rglob("*.py")}
    for function in FUNCTIONS:
        code = ROOT / function_properties(TEMPLATE, function)["CodeUri"]
        expected |= {(function, path.relative_to(code)) for path in code.rglob("*.py")}
    missing = sorted(f"{owner}/{path}" for owner, path in expected if not (directories[owner] / path).exists())
    assert not missing, f"modules not in the built artifact: {missing}"

    problems: list[str] = []
    checked = 0
    for owner, directory in directories.items():
        for source in directory.rglob("*.py"):
            checked += 1
            if (problem := bytecode_problem(source)) is not None:
                problems.append(f"{owner}/{source.relative_to(directory)}: {problem}")
    assert checked > len(expected)  # the layer's third-party packages are in there too
    assert not problems, f"{len(problems)} of {checked} modules would compile at cold start: {problems[:20]}"
