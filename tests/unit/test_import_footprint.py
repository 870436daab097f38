"""A function that cannot call Stripe (template.yaml gives it no Stripe key) must not import the Stripe SDK,
importing any handler must not create clients or read settings (no side effects at import), and a handler's
init as Lambda runs it leaves the AWS SDK and the other first-use modules to the first request that needs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.stack.sam import function_properties
from local.stack.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
FUNCTIONS = {logical_id: Path(resource["Properties"]["CodeUri"]).name
             for logical_id, resource in TEMPLATE["Resources"].items()
             if resource["Type"] == "AWS::Serverless::Function"}


def calls_stripe(logical_id: str) -> bool:
    variables = (function_properties(TEMPLATE, logical_id).get("Environment") or {}).get("Variables") or {}
    return "STRIPE_API_KEY_SECRET_ID" in variables


PROBE = """
import sys, boto3
created = []
boto3.client = lambda *a, **k: created.append(a)
boto3.resource = lambda *a, **k: created.append(a)
import functions.{directory}.app
print("stripe" in sys.modules, created)
"""


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_importing_a_handler_is_free_of_side_effects_and_of_unneeded_sdks(logical_id):
    directory = FUNCTIONS[logical_id]
    if not (ROOT / "functions" / directory / "app.py").exists():
        pytest.fail(f"{logical_id} has no functions/{directory}/app.py")
    # Only the interpreter's basics: no AWS settings, so reading settings at import would fail loudly.
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{ROOT / 'layers/common'}{os.pathsep}{ROOT}"}
    result = subprocess.run([sys.executable, "-c", PROBE.format(directory=directory)], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    stripe_imported, created = result.stdout.split(" ", 1)
    assert created.strip() == "[]"
    if not calls_stripe(logical_id):
        assert stripe_imported == "False"


# What no handler's init may load (issue 13's import diet, each measured by bench/cold_start.py): boto3 and
# botocore's client machinery (~230 ms), Powertools' parameters package (imports boto3 via its AppConfig
# provider), Jinja2 (the first e-mail builds it). They load at the first request that needs them.
DEFERRED = ("boto3", "botocore.client", "aws_lambda_powertools.utilities.parameters", "jinja2", "stripe")
# No model of ours is built at init either (coursepay/__init__.py sets pydantic's defer_build): a request builds
# the two or three it uses. A generic model (Page) is built when it is first parametrized: pydantic's doing, cheap.
LAMBDA_PROBE = """
import sys
import functions.{directory}.app
from pydantic import BaseModel

def models(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from models(sub)

built = sorted({{f"{{m.__module__}}.{{m.__qualname__}}" for m in models(BaseModel)
                if m.__module__.startswith(("coursepay", "app", "functions")) and m.__pydantic_complete__
                and not m.__pydantic_generic_metadata__["parameters"]}})
print(sorted(m for m in {deferred!r} if m in sys.modules), built)
"""


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_a_handler_init_as_lambda_runs_it_defers_the_aws_sdk_first_use_modules_and_model_builds(logical_id):
    # LAMBDA_TASK_ROOT makes the tracer (and the X-Ray SDK) run as in Lambda, where tracing is on.
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{ROOT / 'layers/common'}{os.pathsep}{ROOT}",
           "LAMBDA_TASK_ROOT": str(ROOT), "AWS_LAMBDA_FUNCTION_NAME": logical_id, "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([sys.executable, "-c", LAMBDA_PROBE.format(directory=FUNCTIONS[logical_id],
                                                                        deferred=DEFERRED)],
                            env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] []"


TRACER_PROBE = """
import sys
import coursepay.observability
from aws_xray_sdk.core.patcher import _PATCHED_MODULES
at_import = sorted(_PATCHED_MODULES), "botocore.client" in sys.modules
from coursepay import aws_clients
aws_clients.eventbridge()
print(at_import, sorted(_PATCHED_MODULES),
      sorted(m for m in ("pg8000", "requests", "sqlite3", "httpx") if m in sys.modules))
"""


def test_the_tracer_patches_only_the_aws_sdk_and_only_when_a_client_is_made():
    # Patching every module the X-Ray SDK supports would import pg8000, requests and sqlite3 into every cold
    # start; patching botocore at import would load botocore.client (~230 ms) before any request needs it.
    # LAMBDA_TASK_ROOT is set because outside Lambda the tracer disables itself and patches nothing.
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{ROOT / 'layers/common'}{os.pathsep}{ROOT}",
           "LAMBDA_TASK_ROOT": str(ROOT), "AWS_LAMBDA_FUNCTION_NAME": "footprint", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([sys.executable, "-c", TRACER_PROBE], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "([], False) ['botocore'] []"
