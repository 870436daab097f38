"""Request parsing: bodies and query strings validated into request models, with the field at fault
named in the 400."""

from __future__ import annotations

import binascii
import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from pydantic import BaseModel, ValidationError

from coursepay.errors import InvalidRequest


def _first_error(error: ValidationError) -> InvalidRequest:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or None
    message = first.get("msg", "invalid value")
    if first.get("type") == "missing":
        message = "this field is required"
    elif first.get("type") == "extra_forbidden":
        message = "this field is not accepted"
    return InvalidRequest(f"{field}: {message}" if field else message, field=field)


def parse_model[M: BaseModel](model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _first_error(error) from None


def parse_json_body[M: BaseModel](model: type[M], event: BaseProxyEvent) -> M:
    """The request's JSON body as ``model``. API Gateway base64-encodes bodies it does not take for text (a
    client that sends JSON as form data, say): ``decoded_body`` undoes that, so the JSON is read either way."""
    try:
        # inside the try: decoding a base64 body that is not UTF-8 raises before any JSON is read
        body = event.decoded_body
        data: Any = json.loads(body) if body else {}
    except (json.JSONDecodeError, UnicodeDecodeError, binascii.Error):
        raise InvalidRequest("the body is not valid UTF-8 JSON", field="body") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object", field="body")
    return parse_model(model, data)
