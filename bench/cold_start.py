"""Cold-start benchmark: each function's init as Lambda runs it, beside the Django peer doing the same jobs.

A probe is a fresh process that imports a handler module and reports its peak memory; its wall time is the
init. Every round runs every probe once, in a shuffled order (interleaved: the machine's noise falls on all
of them alike), and the table gives medians. Probes:

- **deployed-like** (the default figure): the ``make build`` artifact as Lambda runs it (see bench/trees.py:
  on a machine that is not arm64 the layer is its recipe's twin for this machine): ``import app`` with the
  function's directory first on the path and the layer after it (``/var/task``, ``/opt/python``), ``python -S``
  (only the standard library besides) and ``PYTHONDONTWRITEBYTECODE`` (the bench's own trees are read-only
  too): only the bytecode the build shipped is used, as in Lambda's read-only code directory. The
  environment is the Lambda runtime's (``LAMBDA_TASK_ROOT``, ``AWS_EXECUTION_ENV``, ...) plus the function's
  variables from template.yaml.
- **warm cache**: the repository's sources with a writable ``__pycache__`` (warmed by an uncounted first
  round) and the layer's lock installed into ``.bench/layer``: what a developer's checkout measures. The
  deployed-like figure should stay within 1.2 x of it.
- **Django peer**: bench/django_peer in its own virtualenv, its app with shipped bytecode, the same environment.

Usage: ``python -m bench.cold_start [--runs 7]`` (``make bench`` builds first).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.trees import ROOT, deployed_trees, peer_trees
from local.stack.sam import function_properties
from local.stack.template import load_template

PROBE = ("import resource, sys; {statement}; "
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 'stripe' in sys.modules)")
LAYER_REQUIREMENTS = ROOT / "layers/common/requirements.txt"
WARM_LAYER_SITE = ROOT / ".bench/layer"
PEER = "Django peer"
# The targets: init as a fraction of the peer's, in the same run.
WEBHOOK_TARGET = 0.40
API_TARGET = 0.55


@dataclass(frozen=True)
class Probe:
    row: str
    column: str
    command: list[str]
    env: dict[str, str]
    cwd: Path


@dataclass
class Result:
    timings_ms: list[float]
    peak_rss_kib: int = 0
    stripe_imported: bool = False


def lambda_environment(function_name: str, task_root: Path, variables: dict[str, str]) -> dict[str, str]:
    """What the python3.13 runtime sets, plus the function's own variables."""
    env = {"PATH": os.environ.get("PATH", ""), "LAMBDA_TASK_ROOT": str(task_root), "_HANDLER": "app.lambda_handler",
           "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13", "AWS_LAMBDA_FUNCTION_NAME": function_name,
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "TZ": ":UTC", "LANG": "en_US.UTF-8",
           "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR", "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
           "PYTHONDONTWRITEBYTECODE": "1"}
    return env | variables


def warm_layer_site() -> Path:
    """The layer's locked requirements installed for this machine, reinstalled when the lock changes."""
    stamp = WARM_LAYER_SITE / ".requirements"
    wanted = LAYER_REQUIREMENTS.read_text()
    if not stamp.exists() or stamp.read_text() != wanted:
        print(f"installing the layer's requirements into {WARM_LAYER_SITE} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", "--target",
                        str(WARM_LAYER_SITE), "-r", str(LAYER_REQUIREMENTS)], check=True)
        stamp.write_text(wanted)
    return WARM_LAYER_SITE


def deployed_value(template: dict[str, Any], name: str, value: Any) -> str:
    """A variable's value: literal, a parameter's default, or a stand-in for a resource's physical id."""
    if isinstance(value, str):
        return value
    parameter = template.get("Parameters", {}).get(value.get("Ref", "")) if isinstance(value, dict) else None
    return str(parameter["Default"]) if parameter else f"bench-{name.lower()}"


def function_rows() -> dict[str, tuple[str, dict[str, str], bool]]:
    """Logical id -> (code directory name, environment variables, serves the HTTP API)."""
    template = load_template(ROOT / "template.yaml")
    rows = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = function_properties(template, logical_id)
        variables = {name: deployed_value(template, name, value) for name, value in
                     ((properties.get("Environment") or {}).get("Variables") or {}).items()}
        serves_api = any(event["Type"] == "HttpApi" for event in (properties.get("Events") or {}).values())
        rows[logical_id] = (Path(properties["CodeUri"]).name, variables, serves_api)
    return rows


def probes() -> tuple[list[Probe], str]:
    deployed = deployed_trees()
    peer = peer_trees()
    warm_site = warm_layer_site()
    found = [Probe(PEER, "deployed", [str(peer.python), "-c", PROBE.format(statement="import peer_app")],
                   {**lambda_environment("peer", peer.app, {}), "PYTHONPATH": str(peer.app)}, peer.app)]
    for logical_id, (directory, variables, _) in sorted(function_rows().items()):
        task = deployed.functions / logical_id
        env = lambda_environment(logical_id, task, variables)
        found.append(Probe(logical_id, "deployed", [sys.executable, "-S", "-c", PROBE.format(statement="import app")],
                           {**env, "PYTHONPATH": os.pathsep.join([str(task), str(deployed.layer)])}, task))
        warm_env = {**env, "PYTHONPATH": os.pathsep.join([str(warm_site), str(ROOT / "layers/common"), str(ROOT)])}
        del warm_env["PYTHONDONTWRITEBYTECODE"]
        found.append(Probe(logical_id, "warm", [sys.executable, "-S", "-c",
                                                PROBE.format(statement=f"import functions.{directory}.app")],
                           warm_env, ROOT))
    return found, deployed.layer_origin


def run_once(probe: Probe) -> tuple[float, int, bool]:
    started = time.perf_counter()
    done = subprocess.run(probe.command, env=probe.env, cwd=probe.cwd, capture_output=True, text=True, check=False)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{probe.row} ({probe.column}) failed:\n{done.stderr}")
    peak_rss, stripe_imported = done.stdout.split()
    return elapsed_ms, int(peak_rss), stripe_imported == "True"


def measure(all_probes: list[Probe], runs: int) -> dict[tuple[str, str], Result]:
    for probe in all_probes:  # the uncounted round: warms the developer caches and the OS page cache
        run_once(probe)
    results: dict[tuple[str, str], Result] = defaultdict(lambda: Result([]))
    for _ in range(runs):
        for probe in random.sample(all_probes, len(all_probes)):
            elapsed_ms, peak_rss, stripe_imported = run_once(probe)
            result = results[(probe.row, probe.column)]
            result.timings_ms.append(elapsed_ms)
            result.peak_rss_kib = max(result.peak_rss_kib, peak_rss)
            result.stripe_imported = stripe_imported
    return results


def target_for(logical_id: str, serves_api: bool) -> float | None:
    if logical_id == "WebhookFunction":
        return WEBHOOK_TARGET
    return API_TARGET if serves_api else None


def print_table(results: dict[tuple[str, str], Result], runs: int, layer_origin: str) -> None:
    def median(row: str, column: str) -> float:
        return statistics.median(results[(row, column)].timings_ms)

    peer_ms = median(PEER, "deployed")
    print(f"Cold start: median of {runs} interleaved rounds, Python {sys.version.split()[0]}; deployed-like = the "
          f"make build functions + layer ({layer_origin}), no bytecode writes")
    header = ["what", "deployed-like ms", "x peer", "target", "peak RSS MiB", "warm cache ms", "deployed / warm",
              "stripe SDK"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("-" * (len(name) + 2) for name in header) + "|")
    peer = results[(PEER, "deployed")]
    print(f"| {PEER} | {peer_ms:.0f} | 1.00 | | {peer.peak_rss_kib / 1024:.0f} | | | yes |")
    for logical_id, (_, _, serves_api) in sorted(function_rows().items()):
        deployed = results[(logical_id, "deployed")]
        ms, warm_ms = median(logical_id, "deployed"), median(logical_id, "warm")
        target = target_for(logical_id, serves_api)
        verdict = "" if target is None else f"<= {target:.2f} {'holds' if ms / peer_ms <= target else 'MISSED'}"
        print(f"| {logical_id} | {ms:.0f} | {ms / peer_ms:.2f} | {verdict} | {deployed.peak_rss_kib / 1024:.0f} | "
              f"{warm_ms:.0f} | {ms / warm_ms:.2f} | {'yes' if deployed.stripe_imported else 'no'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    all_probes, layer_origin = probes()
    print_table(measure(all_probes, args.runs), args.runs, layer_origin)


if __name__ == "__main__":
    main()
