"""The one logger, tracer and metrics object of every function (service name comes from
POWERTOOLS_SERVICE_NAME, set per function in template.yaml)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# Only the AWS SDK is traced. The default (patch every module the X-Ray SDK supports) imports and wraps
# requests, httplib, sqlite3 and pg8000 at init: pg8000 alone is ~140 ms of a cold start (bench/cold_start.py).
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()

__all__ = ["logger", "metrics", "tracer"]
