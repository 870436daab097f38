"""``python -m local.stack.run_in_function <FunctionLogicalId> [--state-dir DIR] -- <command> [args...]``: run a
command against a running local stack with exactly the environment that function's processes get (its
template variables, the layer on PYTHONPATH, moto's endpoint), read from the stack's ``outputs.json``.

    .venv/bin/python -m local.stack.run_in_function ReconciliationFunction -- \
        python -m coursepay.reconciliation --since 2h

``python`` is this interpreter. The exit status is the command's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from local.stack.template import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.stack.run_in_function",
        usage="%(prog)s [--state-dir DIR] <FunctionLogicalId> -- <command> [args...]",
        description="Run a command with a local-stack function's environment.")
    parser.add_argument("function", help="logical id of a template function, e.g. ReconciliationFunction")
    parser.add_argument("--state-dir", default=str(REPO_ROOT / ".local-state"), help="the stack's state directory")
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "--" not in arguments:
        parser.error("no command given: put it after --")
    split = arguments.index("--")
    args = parser.parse_args(arguments[:split])
    command = arguments[split + 1:]
    if not command:
        parser.error("no command given after --")
    state_file = Path(args.state_dir) / "outputs.json"
    if not state_file.exists():
        parser.error(f"{state_file} not found: is the local stack running (make run)?")
    environments = json.loads(state_file.read_text(encoding="utf-8")).get("function_environments") or {}
    if args.function not in environments:
        parser.error(f"{args.function} is not a function of the running stack ({', '.join(sorted(environments))})")
    if command[0] == "python":
        command = [sys.executable, *command[1:]]
    return subprocess.run(command, env=environments[args.function], cwd=REPO_ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
