"""boto3 clients, created once per process and only when first used (cold starts stay small: boto3 and
botocore are imported then, not at init, and the X-Ray patch of botocore is applied then).

boto3 honours AWS_ENDPOINT_URL, which is how the local stack points every function at moto's server.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBServiceResource
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient


def traced_boto3() -> ModuleType:
    """boto3, imported at first use, with botocore patched for X-Ray before any client of it calls AWS."""
    import boto3

    # imported here, not at the top: importing this module must not create the Powertools objects (they read
    # their POWERTOOLS_* settings when created)
    from coursepay.observability import trace_aws_sdk

    trace_aws_sdk()
    return boto3


@cache
def dynamodb() -> DynamoDBServiceResource:
    return traced_boto3().resource("dynamodb")


@cache
def eventbridge() -> EventBridgeClient:
    return traced_boto3().client("events")


@cache
def cognito() -> CognitoIdentityProviderClient:
    return traced_boto3().client("cognito-idp")


@cache
def ses() -> SESClient:
    return traced_boto3().client("ses")


@cache
def sqs() -> SQSClient:
    return traced_boto3().client("sqs")
