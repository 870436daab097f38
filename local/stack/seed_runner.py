"""Runs one seeding function inside a function's environment (a child process, like the function itself).

``python -m local.stack.seed_runner module:function`` reads a JSON payload on stdin, calls
``function(payload)`` and writes its JSON result on stdout. The stack starts it with the environment of a
template function, so domain code (``coursepay.*``) reaches moto and finds its tables exactly as in that
function; the stack's own process never gets AWS_ENDPOINT_URL or the functions' settings.
"""

from __future__ import annotations

import importlib
import json
import sys


def main() -> None:
    module_name, _, function_name = sys.argv[1].partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(json.load(sys.stdin))
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
