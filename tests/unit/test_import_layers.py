"""The import-layer contract of `make lint` (pyproject.toml, [tool.importlinter]): it holds for the layer as it
is, and it fails the build when a lower layer imports a higher one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(layer_root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
                          cwd=ROOT, env={"PYTHONPATH": str(layer_root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


def test_the_layer_keeps_its_import_contract() -> None:
    result = lint_imports(ROOT / "layers" / "common")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("module", "upward_import"), [
    ("billing/upward.py", "from coursepay.api.errors import install_error_handlers"),  # core -> adapter
    ("storage/upward.py", "from coursepay.billing.payments import Payment"),  # infrastructure -> core
    ("tracks/upward.py", "from coursepay.consumers import runner"),  # context -> adapter
])
def test_an_upward_import_breaks_the_contract(tmp_path: Path, module: str, upward_import: str) -> None:
    copy = tmp_path / "coursepay"
    shutil.copytree(ROOT / "layers" / "common" / "coursepay", copy,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (copy / module).write_text(f'"""An import against the layers."""\n\n{upward_import}\n')
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
