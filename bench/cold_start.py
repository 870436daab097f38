"""Cold-start benchmark: the init cost of a fresh Python process importing each function's handler.

For every function in template.yaml, runs ``python -c "import functions.<dir>.app"`` N times in fresh
processes and reports the median wall time, beside ``python -c pass`` and ``import boto3`` measured in the
same run, and whether the Stripe SDK got imported. Usage: ``python -m bench.cold_start [--runs 9]``.
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


def functions_in_template() -> dict[str, str]:
    template = load_template(ROOT / "template.yaml")
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            found[logical_id] = Path(resource["Properties"]["CodeUri"]).name
    return found


def measure(statement: str, runs: int) -> tuple[float, bool]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/common'}{os.pathsep}{ROOT}",
           "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "coursepay"}
    timings = []
    imported_stripe = False
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", PROBE.format(statement=statement)], env=env, cwd=ROOT,
                                capture_output=True, text=True, check=True)
        timings.append((time.perf_counter() - started) * 1000)
        imported_stripe = result.stdout.strip() == "True"
    return statistics.median(timings), imported_stripe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    baseline, _ = measure("pass", args.runs)
    rows = [("python -c pass", baseline, False), ("import boto3", *measure("import boto3", args.runs))]
    for logical_id, directory in sorted(functions_in_template().items()):
        if not (ROOT / "functions" / directory / "app.py").exists():
            print(f"skipped {logical_id}: functions/{directory}/app.py does not exist", file=sys.stderr)
            continue
        rows.append((logical_id, *measure(f"import functions.{directory}.app", args.runs)))

    print(f"Cold start: median of {args.runs} fresh processes, Python {sys.version.split()[0]}")
    print(f"| {'what':<24} | {'median ms':>9} | {'over pass':>9} | stripe SDK imported |")
    print(f"|{'-' * 26}|{'-' * 11}|{'-' * 11}|{'-' * 21}|")
    for name, median, stripe_loaded in rows:
        print(f"| {name:<24} | {median:9.1f} | {median - baseline:9.1f} | {'yes' if stripe_loaded else 'no':<19} |")


if __name__ == "__main__":
    main()
