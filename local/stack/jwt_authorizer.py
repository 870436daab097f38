"""API Gateway HTTP API's JWT authorizer, against the local Cognito's JWKS.

Rules (AWS docs, "Controlling access to HTTP APIs with JWT authorizers"): the token comes from the identity
source header, with or without a ``Bearer`` prefix; its ``kid`` must be in the issuer's JWKS and its RS256
signature valid; ``iss`` must equal the configured issuer; ``aud`` (or, when absent, ``client_id``) must be
one of the configured audiences; ``exp`` must be in the future, ``nbf``/``iat`` in the past; when the route
has authorization scopes, the ``scope`` claim must contain one of them. Anything else is a 401.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from local.stack.sam import JwtAuthorizerSpec

JwksFetcher = Callable[[], Mapping[str, Any]]


class Unauthorized(Exception):
    """The request carries no acceptable token (the reason is for the stack's log, not the client)."""


class Forbidden(Exception):
    """A valid token lacks the route's scopes (API Gateway answers 403)."""


def http_jwks_fetcher(url: str, timeout_s: float = 5.0) -> JwksFetcher:
    def fetch() -> Mapping[str, Any]:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - local moto URL
            return json.loads(response.read())

    return fetch


class JwtAuthorizer:
    """Validates bearer tokens for one authorizer; the JWKS is fetched once and refreshed on unknown kid."""

    refetch_interval_s = 30.0

    def __init__(self, spec: JwtAuthorizerSpec, fetch_jwks: JwksFetcher, *, leeway_s: float = 0.0) -> None:
        self.spec = spec
        self._fetch_jwks = fetch_jwks
        self._leeway_s = leeway_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def authorize(self, headers: Mapping[str, str], scopes: tuple[str, ...] = ()) -> dict[str, Any]:
        """Return the verified claims, or raise :class:`Unauthorized` / :class:`Forbidden`."""
        token = self._token(headers)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"malformed token: {error}") from None
        if header.get("alg") != "RS256":
            raise Unauthorized(f"unsupported alg {header.get('alg')}")
        key = self._key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=["RS256"],
                issuer=self.spec.issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "iss"], "verify_aud": False},
            )
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"invalid token: {error}") from None
        self._check_audience(claims)
        if scopes:
            granted = set(str(claims.get("scope", "")).split())
            if not granted.intersection(scopes):
                raise Forbidden(f"token scopes {sorted(granted)} lack all of {list(scopes)}")
        return claims

    def _token(self, headers: Mapping[str, str]) -> str:
        parts = headers.get(self.spec.identity_header, "").split(None, 1)
        if parts and parts[0].lower() == "bearer":
            parts = parts[1:]
        value = parts[0].strip() if parts else ""
        if not value:
            raise Unauthorized(f"no token in the {self.spec.identity_header} header")
        return value

    def _key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            stale = time.monotonic() - self._fetched_at > self.refetch_interval_s
            if kid not in self._keys and (not self._keys or stale):
                document = self._fetch_jwks()
                self._keys = {str(jwk["kid"]): jwt.PyJWK(dict(jwk)) for jwk in document.get("keys", []) if "kid" in jwk}
                self._fetched_at = time.monotonic()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized(f"kid {kid!r} is not in the issuer's JWKS")
        return key

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        if "aud" in claims:
            audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
            if not set(map(str, audiences)).intersection(self.spec.audiences):
                raise Unauthorized(f"aud {claims['aud']!r} not in the configured audience")
        elif str(claims.get("client_id", "")) not in self.spec.audiences:
            raise Unauthorized(f"client_id {claims.get('client_id')!r} not in the configured audience")


def claims_for_event(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them in payload 2.0: every value a string, arrays as ``[a b]``."""
    return {name: _claim_text(value) for name, value in claims.items()}


def _claim_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
