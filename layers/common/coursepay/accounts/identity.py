"""The Cognito user pool behind a small interface (the accounts service never sees boto3)."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from coursepay import aws_clients
from coursepay.accounts.models import Tokens
from coursepay.errors import Conflict, InvalidRequest, NotFound, Unauthenticated, UpstreamUnavailable

NO_PASSWORD_YET = "FORCE_CHANGE_PASSWORD"  # created with the unusable temporary password, none set since
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class AccountState:
    user_id: str
    has_password: bool
    email_verified: bool


def unusable_password(length: int = 32) -> str:
    """Random, satisfying the pool's policy (Cognito requires a temporary password to create a user), and never
    stored, logged or sent: nobody can sign in with it."""
    body = [secrets.choice(_ALPHABET) for _ in range(length - 3)]
    body += [secrets.choice(string.ascii_lowercase), secrets.choice(string.ascii_uppercase),
             secrets.choice(string.digits)]
    secrets.SystemRandom().shuffle(body)
    return "".join(body)


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _tokens(result: dict[str, Any], refresh_token: str | None = None) -> Tokens:
    return Tokens(
        access_token=result["AccessToken"],
        id_token=result["IdToken"],
        refresh_token=result.get("RefreshToken", refresh_token),
        expires_in=int(result.get("ExpiresIn", 3600)),
        token_type=result.get("TokenType", "Bearer"),
    )


class CognitoIdentity:
    def __init__(self, user_pool_id: str, client_id: str) -> None:
        self._pool = user_pool_id
        self._client = client_id

    def create_user(self, email: str, name: str, *, password: str | None = None, verified: bool = False) -> str:
        """Create a user (no Cognito e-mail: coursepay sends its own). With ``password`` the user can sign in once
        the e-mail is verified; without, the account gets a random temporary password that is never told to
        anyone, so it has no usable password until one is set through a link (``set_password``).
        Returns the user's sub."""
        kwargs: dict[str, Any] = {
            "UserPoolId": self._pool,
            "Username": email,
            "UserAttributes": [
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true" if verified else "false"},
                {"Name": "name", "Value": name},
            ],
            "MessageAction": "SUPPRESS",
            "TemporaryPassword": unusable_password(),
        }
        try:
            response = aws_clients.cognito().admin_create_user(**kwargs)
        except ClientError as error:
            if _code(error) == "UsernameExistsException":
                raise Conflict("an account with this e-mail already exists", field="email") from error
            raise self._unexpected(error) from error
        attributes = {attr["Name"]: attr["Value"] for attr in response["User"].get("Attributes", [])}
        if password:
            try:
                self.set_password(email, password, field="password")
            except Exception:
                # Leave nothing behind: a user without the password they chose is of no use to them.
                aws_clients.cognito().admin_delete_user(UserPoolId=self._pool, Username=email)
                raise
        return attributes["sub"]

    def set_password(self, email: str, password: str, *, field: str = "new_password") -> None:
        """The user's permanent password (the account is then CONFIRMED); InvalidRequest naming ``field`` for a
        password the pool's policy refuses."""
        try:
            aws_clients.cognito().admin_set_user_password(UserPoolId=self._pool, Username=email, Password=password,
                                                          Permanent=True)
        except ClientError as error:
            if _code(error) == "InvalidPasswordException":
                raise InvalidRequest(str(error.response["Error"].get("Message")), field=field) from error
            if _code(error) == "UserNotFoundException":
                raise NotFound("no such user") from error
            raise self._unexpected(error) from error

    def account_state(self, email: str) -> AccountState | None:
        """Whether the account has a usable password and a verified e-mail; None for an unknown e-mail."""
        try:
            response = aws_clients.cognito().admin_get_user(UserPoolId=self._pool, Username=email)
        except ClientError as error:
            if _code(error) == "UserNotFoundException":
                return None
            raise self._unexpected(error) from error
        attributes = {attr["Name"]: attr["Value"] for attr in response.get("UserAttributes", [])}
        return AccountState(user_id=attributes["sub"], has_password=response.get("UserStatus") != NO_PASSWORD_YET,
                            email_verified=attributes.get("email_verified") == "true")

    def mark_email_verified(self, email: str) -> None:
        aws_clients.cognito().admin_update_user_attributes(
            UserPoolId=self._pool, Username=email, UserAttributes=[{"Name": "email_verified", "Value": "true"}])

    def sign_out_everywhere(self, email: str) -> None:
        """Revokes the user's refresh tokens (after a password reset)."""
        aws_clients.cognito().admin_user_global_sign_out(UserPoolId=self._pool, Username=email)

    def delete_user(self, email: str) -> bool:
        """Removes the user and with it every way to sign in; False when there was none (deleted already)."""
        try:
            aws_clients.cognito().admin_delete_user(UserPoolId=self._pool, Username=email)
        except ClientError as error:
            if _code(error) == "UserNotFoundException":
                return False
            raise self._unexpected(error) from error
        return True

    def find_user_id(self, email: str) -> str | None:
        state = self.account_state(email)
        return state.user_id if state else None

    def add_to_group(self, email: str, group: str) -> None:
        try:
            aws_clients.cognito().admin_add_user_to_group(UserPoolId=self._pool, Username=email, GroupName=group)
        except ClientError as error:
            if _code(error) == "UserNotFoundException":
                raise NotFound("no such user") from error
            raise self._unexpected(error) from error

    def groups_of(self, email: str) -> list[str]:
        response = aws_clients.cognito().admin_list_groups_for_user(UserPoolId=self._pool, Username=email)
        return sorted(group["GroupName"] for group in response.get("Groups", []))

    def sign_in(self, email: str, password: str) -> Tokens:
        try:
            response = aws_clients.cognito().initiate_auth(
                ClientId=self._client, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password})
        except ClientError as error:
            if _code(error) in {"NotAuthorizedException", "UserNotFoundException"}:
                raise Unauthenticated("wrong e-mail or password") from error
            raise self._unexpected(error) from error
        if "AuthenticationResult" not in response:
            # NEW_PASSWORD_REQUIRED would need the unusable password nobody was told: never expected.
            raise UpstreamUnavailable(f"unsupported sign-in challenge {response.get('ChallengeName')}")
        return _tokens(dict(response["AuthenticationResult"]))

    def refresh(self, refresh_token: str) -> Tokens:
        try:
            response = aws_clients.cognito().initiate_auth(
                ClientId=self._client, AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token})
        except ClientError as error:
            if _code(error) in {"NotAuthorizedException", "UserNotFoundException"}:
                raise Unauthenticated("the refresh token is invalid or has expired") from error
            raise self._unexpected(error) from error
        except KeyError as error:  # moto raises this for an unknown refresh token
            raise Unauthenticated("the refresh token is invalid or has expired") from error
        return _tokens(dict(response["AuthenticationResult"]), refresh_token=refresh_token)

    @staticmethod
    def _unexpected(error: ClientError) -> Exception:
        code = _code(error)
        if code in {"TooManyRequestsException", "InternalErrorException", "LimitExceededException"}:
            return UpstreamUnavailable(f"Cognito is unavailable ({code})")
        return error
