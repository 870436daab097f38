"""The one logger, tracer and metrics object of every function (service name comes from
POWERTOOLS_SERVICE_NAME, set per function in template.yaml)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()

__all__ = ["logger", "metrics", "tracer"]
