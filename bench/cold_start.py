"""Cold-start benchmark: the init cost of a fresh Python process importing each function's handler.

For every function in template.yaml, runs ``python -c "import functions.<dir>.app"`` N times in fresh
processes and reports the median wall time, beside ``python -c pass`` and ``import boto3`` measured in the
same run, and whether the Stripe SDK got imported.

By default the probes see only what a Lambda container sees: the standard library (``python -S``, no
site-packages) plus the layer's locked requirements installed into ``.bench/layer`` (once per lock), the
layer's ``coursepay`` package and the function's code. ``--venv`` measures inside the development
virtualenv instead (which also holds dev tools such as awscrt that botocore picks up when present).

Usage: ``python -m bench.cold_start [--runs 9] [--venv]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from local.stack.template import load_template

ROOT = Path(__file__).resolve().parents[1]
PROBE = "import sys; {statement}; print('stripe' in sys.modules)"
LAYER_REQUIREMENTS = ROOT / "layers/common/requirements.txt"
LAYER_SITE = ROOT / ".bench/layer"


def functions_in_template() -> dict[str, str]:
    template = load_template(ROOT / "template.yaml")
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            found[logical_id] = Path(resource["Properties"]["CodeUri"]).name
    return found


def layer_site() -> Path:
    """The layer's locked requirements installed for this machine, reinstalled when the lock changes."""
    stamp = LAYER_SITE / ".requirements"
    wanted = LAYER_REQUIREMENTS.read_text()
    if not stamp.exists() or stamp.read_text() != wanted:
        print(f"installing the layer's requirements into {LAYER_SITE} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", "--target", str(LAYER_SITE),
                        "-r", str(LAYER_REQUIREMENTS)], check=True)
        stamp.write_text(wanted)
    return LAYER_SITE


def measure(statement: str, runs: int, site: Path | None) -> tuple[float, bool]:
    paths = [str(ROOT / "layers/common"), str(ROOT)]
    command = [sys.executable]
    if site is not None:
        paths.insert(0, str(site))
        command.append("-S")  # no site-packages: only the standard library, like the Lambda runtime
    # What the Lambda runtime sets: LAMBDA_TASK_ROOT, for one, makes the X-Ray SDK take its light Lambda path.
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(paths),
           "LAMBDA_TASK_ROOT": str(ROOT), "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_REGION": "us-east-1",
           "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_METRICS_NAMESPACE": "coursepay",
           "POWERTOOLS_SERVICE_NAME": "bench"}
    timings = []
    imported_stripe = False
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run([*command, "-c", PROBE.format(statement=statement)], env=env, cwd=ROOT,
                                capture_output=True, text=True, check=True)
        timings.append((time.perf_counter() - started) * 1000)
        imported_stripe = result.stdout.strip() == "True"
    return statistics.median(timings), imported_stripe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--venv", action="store_true", help="measure inside the development virtualenv")
    args = parser.parse_args()
    site = None if args.venv else layer_site()

    baseline, _ = measure("pass", args.runs, site)
    rows = [("python -c pass", baseline, False), ("import boto3", *measure("import boto3", args.runs, site))]
    for logical_id, directory in sorted(functions_in_template().items()):
        if not (ROOT / "functions" / directory / "app.py").exists():
            print(f"skipped {logical_id}: functions/{directory}/app.py does not exist", file=sys.stderr)
            continue
        rows.append((logical_id, *measure(f"import functions.{directory}.app", args.runs, site)))

    where = "the development virtualenv" if site is None else "stdlib + the layer's locked requirements (python -S)"
    print(f"Cold start: median of {args.runs} fresh processes, Python {sys.version.split()[0]}, {where}")
    print(f"| {'what':<24} | {'median ms':>9} | {'over pass':>9} | stripe SDK imported |")
    print(f"|{'-' * 26}|{'-' * 11}|{'-' * 11}|{'-' * 21}|")
    for name, median, stripe_loaded in rows:
        print(f"| {name:<24} | {median:9.1f} | {median - baseline:9.1f} | {'yes' if stripe_loaded else 'no':<19} |")


if __name__ == "__main__":
    main()
