"""The code trees the cold-start bench imports: what Lambda runs, and the Django peer beside it.

``deployed_trees`` is the ``make build`` artifact (``.aws-sam/build``): the functions' directories as built
(pure Python, so arm64 or not makes no difference) and the layer. The layer holds arm64 wheels (pydantic_core,
charset_normalizer, markupsafe), which an x86_64 machine cannot import: there the bench builds the layer's twin
with the same recipe (``layers/common/Makefile``, same lock, same hash-based bytecode) for this machine's
architecture into ``.bench/layer-<machine>``, rebuilt when the recipe, the lock or the package changes.
The trees are made read-only, as ``/var/task`` and ``/opt`` are.

``peer_trees`` is the Django peer (bench/django_peer): its lock installed into its own virtualenv
``.bench/peer-venv`` (created by the bench with this interpreter, never the project's), and its app copied to
``.bench/peer-app`` with hash-based bytecode, as coursepay's is shipped.
"""

from __future__ import annotations

import hashlib
import platform
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILT = ROOT / ".aws-sam/build"
BENCH_STATE = ROOT / ".bench"
LAMBDA_MACHINE = "aarch64"
WHEEL_PLATFORMS = {"aarch64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
PEER_SOURCE = ROOT / "bench/django_peer"


@dataclass(frozen=True)
class DeployedTrees:
    functions: Path  # holds one directory per function logical id, as .aws-sam/build does
    layer: Path  # what Lambda mounts at /opt/python
    layer_origin: str


@dataclass(frozen=True)
class PeerTrees:
    python: Path
    app: Path


def _fingerprint(*paths: Path) -> str:
    digest = hashlib.sha256()
    for top in paths:
        files = [top] if top.is_file() else sorted(
            path for path in top.rglob("*") if path.is_file() and "__pycache__" not in path.parts)
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def _set_read_only(top: Path, read_only: bool) -> None:
    for path in [top, *top.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        write = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        path.chmod(mode & ~write if read_only else mode | stat.S_IWUSR)


def _fresh_directory(target: Path) -> None:
    if target.exists():
        _set_read_only(target, read_only=False)
        shutil.rmtree(target)
    target.mkdir(parents=True)


def _built(target: Path, fingerprint: str, build: Callable[[Path], None]) -> Path:
    """``target`` rebuilt by ``build(target)`` unless its stamp says it was built from ``fingerprint``."""
    stamp = target.with_name(target.name + ".stamp")
    if target.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return target
    print(f"building {target.relative_to(ROOT)} ...", file=sys.stderr)
    _fresh_directory(target)
    build(target)
    _set_read_only(target, read_only=True)
    stamp.write_text(fingerprint)
    return target


def deployed_trees() -> DeployedTrees:
    if not (BUILT / "template.yaml").exists():
        raise SystemExit("no sam build artifact in .aws-sam/build: run `make build` first (`make bench` does)")
    machine = platform.machine()
    if machine == LAMBDA_MACHINE:
        return DeployedTrees(BUILT, BUILT / "CommonLayer/python", "the sam build artifact")
    source = ROOT / "layers/common"

    def build_layer(target: Path) -> None:
        subprocess.run(["make", "--quiet", "--makefile", str(source / "Makefile"), "build-CommonLayer",
                        f"ARTIFACTS_DIR={target}", f"PYTHON={sys.executable}",
                        f"WHEEL_PLATFORM={WHEEL_PLATFORMS[machine]}"], cwd=source, check=True)

    layer = _built(BENCH_STATE / f"layer-{machine}", _fingerprint(source / "Makefile", source / "requirements.txt",
                                                                  source / "coursepay"), build_layer)
    return DeployedTrees(BUILT, layer / "python", f"its recipe rebuilt for {machine} (the artifact is arm64)")


def peer_trees() -> PeerTrees:
    requirements = PEER_SOURCE / "requirements.txt"

    def build_venv(target: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
        subprocess.run([str(target / "bin/python"), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
                       check=True)

    def build_app(target: Path) -> None:
        shutil.copy2(PEER_SOURCE / "peer_app.py", target / "peer_app.py")
        subprocess.run([sys.executable, "-m", "compileall", "-q", "-f", "--invalidation-mode", "unchecked-hash",
                        str(target)], check=True)

    venv = _built(BENCH_STATE / "peer-venv", _fingerprint(requirements), build_venv)
    app = _built(BENCH_STATE / "peer-app", _fingerprint(PEER_SOURCE / "peer_app.py"), build_app)
    return PeerTrees(venv / "bin/python", app)

