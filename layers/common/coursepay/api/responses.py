"""Success responses with a status of their own (201, 202, ...), in one place: a pydantic model or a plain dict
as the JSON body. Routes that answer 200 just return the dict."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel


def json_response(status: HTTPStatus, body: BaseModel | dict[str, Any]) -> Response[str]:
    text = body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body)
    return Response(status, content_types.APPLICATION_JSON, text)
