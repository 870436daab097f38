"""boto3 clients, created once per process and only when first used (cold starts stay small).

boto3 honours AWS_ENDPOINT_URL, which is how the local stack points every function at moto's server.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBServiceResource
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_ses import SESClient


@cache
def dynamodb() -> DynamoDBServiceResource:
    return boto3.resource("dynamodb")


@cache
def eventbridge() -> EventBridgeClient:
    return boto3.client("events")


@cache
def cognito() -> CognitoIdentityProviderClient:
    return boto3.client("cognito-idp")


@cache
def ses() -> SESClient:
    return boto3.client("ses")
