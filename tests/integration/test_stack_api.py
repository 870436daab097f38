"""The local API Gateway end to end: routing, the Cognito JWT authorizer, claims reaching a function,
CORS, the outbox."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.utilities.utils import load_resource

from local.stack.stack import LocalStack

STUDENT = "student@coursepay.local"


def _moto_signed_token(stack: LocalStack, **overrides: Any) -> str:
    """A token signed with the local Cognito's own key (moto ships it), with claims of our choosing."""
    key = jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json"))
    now = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.{stack.region}.amazonaws.com/{stack.outputs['UserPool']}",
        "sub": "someone",
        "aud": stack.outputs["UserPoolClient"],
        "token_use": "id",
        "iat": now - 10,
        "exp": now + 300,
        **overrides,
    }
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": "dummy"})


def test_unknown_route_is_404(api: Any) -> None:
    response = api.get("/no/such/route")
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})
    assert api.put("/me").status_code == 404  # the path exists, not with this method


def test_protected_route_needs_a_valid_token(api: Any, stack: LocalStack) -> None:
    forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    valid_claims = jwt.decode(_moto_signed_token(stack), options={"verify_signature": False})
    forged = jwt.encode(valid_claims, forged_key, algorithm="RS256", headers={"kid": "dummy"})
    expired = _moto_signed_token(stack, iat=int(time.time()) - 600, exp=int(time.time()) - 60)
    other_audience = _moto_signed_token(stack, aud="another-client")
    for headers in (
        {},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {other_audience}"},
    ):
        response = api.get("/me", headers=headers)
        assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"}), headers
    # Same key and claims but not expired: through the authorizer (the function then finds no profile).
    assert api.get("/me", token=_moto_signed_token(stack)).status_code == 404


def test_claims_of_a_valid_token_reach_the_function(api: Any, login: Callable[..., dict[str, Any]]) -> None:
    tokens = login(STUDENT)
    id_claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    for token in (tokens["id_token"], tokens["access_token"]):  # aud (id) and client_id (access) audiences
        for header in (f"Bearer {token}", token):  # API Gateway accepts the token with or without "Bearer "
            response = api.get("/me", headers={"Authorization": header})
            assert response.status_code == 200, response.text
            profile = response.json()
            assert profile["user_id"] == id_claims["sub"]
            assert profile["email"] == STUDENT
            assert profile["groups"] == ["students"]  # cognito:groups arrived as "[students]"


def test_cors_preflight_for_the_local_web_origin(api: Any) -> None:
    response = api.request(
        "OPTIONS",
        "/me",
        headers={
            "Origin": "http://localhost:8080",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:8080"
    assert "authorization" in response.headers["access-control-allow-headers"]


def test_outbox_shows_what_ses_sent(aws: Any, stack: LocalStack, api: Any, outbox: Callable[[], list[Any]]) -> None:
    subject = f"outbox check {time.time_ns()}"
    aws.client("ses").send_email(
        Source=stack.parameters["EmailSender"],
        Destination={"ToAddresses": ["someone@coursepay.local"]},
        Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": "<b>hello</b>"}}},
    )
    (message,) = [message for message in outbox() if message["subject"] == subject]
    assert message["to"] == ["someone@coursepay.local"]
    assert message["body"] == "<b>hello</b>"
    page = api.get("/_local/outbox")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert subject in page.text
    assert "&lt;b&gt;hello&lt;/b&gt;" in page.text  # shown as text, never rendered


def test_health(api: Any) -> None:
    assert json.loads(api.get("/_local/health").text) == {"status": "ok"}
