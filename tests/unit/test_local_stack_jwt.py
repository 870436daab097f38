"""The local JWT authorizer against API Gateway's rules, with keys generated here."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.stack.jwt_authorizer import Forbidden, JwtAuthorizer, Unauthorized, claims_for_event
from local.stack.sam import JwtAuthorizerSpec

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT_ID = "client123"
SPEC = JwtAuthorizerSpec(name="CognitoJwt", issuer=ISSUER, audiences=(CLIENT_ID,), identity_header="authorization")


def _keypair() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


ISSUER_KEY = _keypair()
OTHER_KEY = _keypair()


def _jwks(kid: str = "k1") -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(ISSUER_KEY.public_key()))
    return {"keys": [{**public, "kid": kid, "alg": "RS256", "use": "sig"}]}


def _token(key: rsa.RSAPrivateKey = ISSUER_KEY, kid: str = "k1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": now,
        "exp": now + 300,
        "cognito:groups": ["students", "teachers"],
        "email": "a@b.c",
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


class CountingJwks:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return _jwks()


@pytest.fixture
def jwks() -> CountingJwks:
    return CountingJwks()


@pytest.fixture
def authorizer(jwks: CountingJwks) -> JwtAuthorizer:
    return JwtAuthorizer(SPEC, jwks)


def test_valid_id_token_with_or_without_bearer_prefix(authorizer: JwtAuthorizer, jwks: CountingJwks) -> None:
    token = _token()
    assert authorizer.authorize({"authorization": f"Bearer {token}"})["sub"] == "user-1"
    assert authorizer.authorize({"authorization": token})["sub"] == "user-1"
    assert jwks.calls == 1  # cached


def test_access_token_audience_is_its_client_id(authorizer: JwtAuthorizer) -> None:
    token = _token(aud=None, client_id=CLIENT_ID, token_use="access")
    assert authorizer.authorize({"authorization": token})["client_id"] == CLIENT_ID
    with pytest.raises(Unauthorized, match="client_id"):
        authorizer.authorize({"authorization": _token(aud=None, client_id="someone-else")})


@pytest.mark.parametrize(
    ("token_factory", "reason"),
    [
        (lambda: _token(key=OTHER_KEY), "Signature verification failed"),  # forged: same kid, other key
        (lambda: _token(exp=int(time.time()) - 5), "expired"),
        (lambda: _token(nbf=int(time.time()) + 600), "not yet valid"),
        (lambda: _token(iat=int(time.time()) + 600), "not yet valid"),
        (lambda: _token(iss="https://cognito-idp.us-east-1.amazonaws.com/other"), "issuer"),
        (lambda: _token(aud="another-client"), "aud"),
        (lambda: _token(exp=None), "exp"),
        (lambda: _token(kid="unknown"), "kid"),
        (lambda: jwt.encode({"iss": ISSUER, "aud": CLIENT_ID, "exp": int(time.time()) + 60}, "s" * 32), "alg"),
        (lambda: "not-a-jwt", "malformed"),
    ],
)
def test_rejections(authorizer: JwtAuthorizer, token_factory: Any, reason: str) -> None:
    with pytest.raises(Unauthorized, match=reason):
        authorizer.authorize({"authorization": f"Bearer {token_factory()}"})


def test_missing_or_empty_header(authorizer: JwtAuthorizer) -> None:
    for headers in ({}, {"authorization": ""}, {"authorization": "Bearer "}):
        with pytest.raises(Unauthorized, match="no token"):
            authorizer.authorize(headers)


def test_route_scopes_need_one_matching_scope(authorizer: JwtAuthorizer) -> None:
    token = _token(scope="orders/read profile")
    assert authorizer.authorize({"authorization": token}, scopes=("orders/write", "orders/read"))
    with pytest.raises(Forbidden):
        authorizer.authorize({"authorization": token}, scopes=("admin",))


def test_an_unknown_kid_refetches_the_jwks_after_the_interval(jwks: CountingJwks) -> None:
    authorizer = JwtAuthorizer(SPEC, jwks)
    authorizer.refetch_interval_s = 0.0  # rotated keys are picked up
    authorizer.authorize({"authorization": _token()})
    with pytest.raises(Unauthorized):
        authorizer.authorize({"authorization": _token(kid="rotated")})
    assert jwks.calls == 2


def test_claims_are_passed_as_api_gateway_renders_them() -> None:
    assert claims_for_event(
        {"sub": "u", "exp": 1700000000, "cognito:groups": ["students", "teachers"], "email_verified": True}
    ) == {"sub": "u", "exp": "1700000000", "cognito:groups": "[students teachers]", "email_verified": "true"}
