"""The Cognito user pool behind a small interface (the accounts service never sees boto3)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from coursepay import aws_clients
from coursepay.accounts.models import NewPasswordChallenge, Tokens
from coursepay.errors import Conflict, InvalidRequest, NotFound, Unauthenticated, UpstreamUnavailable


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

    def create_user(self, email: str, name: str, *, password: str | None = None,
                    temporary_password: str | None = None) -> str:
        """Create a user (no Cognito e-mail: coursepay sends its own). With ``password`` the user can sign in
        at once; with ``temporary_password`` the first sign-in must set a new one. Returns the user's sub."""
        kwargs: dict[str, Any] = {
            "UserPoolId": self._pool,
            "Username": email,
            "UserAttributes": [
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": name},
            ],
            "MessageAction": "SUPPRESS",
        }
        if temporary_password:
            kwargs["TemporaryPassword"] = temporary_password
        try:
            response = aws_clients.cognito().admin_create_user(**kwargs)
        except ClientError as error:
            if _code(error) == "UsernameExistsException":
                raise Conflict("an account with this e-mail already exists", field="email") from error
            raise self._unexpected(error) from error
        attributes = {attr["Name"]: attr["Value"] for attr in response["User"].get("Attributes", [])}
        if password:
            try:
                aws_clients.cognito().admin_set_user_password(
                    UserPoolId=self._pool, Username=email, Password=password, Permanent=True)
            except ClientError as error:
                # Leave nothing behind: a user without the password they chose is of no use to them.
                aws_clients.cognito().admin_delete_user(UserPoolId=self._pool, Username=email)
                if _code(error) == "InvalidPasswordException":
                    raise InvalidRequest(str(error.response["Error"].get("Message")), field="password") from error
                raise self._unexpected(error) from error
        return attributes["sub"]

    def find_user_id(self, email: str) -> str | None:
        try:
            response = aws_clients.cognito().admin_get_user(UserPoolId=self._pool, Username=email)
        except ClientError as error:
            if _code(error) == "UserNotFoundException":
                return None
            raise self._unexpected(error) from error
        attributes = {attr["Name"]: attr["Value"] for attr in response.get("UserAttributes", [])}
        return attributes.get("sub")

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

    def sign_in(self, email: str, password: str) -> Tokens | NewPasswordChallenge:
        try:
            response = aws_clients.cognito().initiate_auth(
                ClientId=self._client, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password})
        except ClientError as error:
            if _code(error) in {"NotAuthorizedException", "UserNotFoundException"}:
                raise Unauthenticated("wrong e-mail or password") from error
            raise self._unexpected(error) from error
        if response.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            return NewPasswordChallenge(session=response["Session"])
        if "AuthenticationResult" not in response:
            raise UpstreamUnavailable(f"unsupported sign-in challenge {response.get('ChallengeName')}")
        return _tokens(dict(response["AuthenticationResult"]))

    def complete_new_password(self, email: str, session: str, new_password: str) -> Tokens:
        try:
            response = aws_clients.cognito().respond_to_auth_challenge(
                ClientId=self._client, ChallengeName="NEW_PASSWORD_REQUIRED", Session=session,
                ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": new_password})
        except ClientError as error:
            code = _code(error)
            if code == "InvalidPasswordException":
                raise InvalidRequest(str(error.response["Error"].get("Message")), field="new_password") from error
            if code in {"NotAuthorizedException", "CodeMismatchException", "ExpiredCodeException",
                        "UserNotFoundException"}:
                raise Unauthenticated("the sign-in session is invalid or has expired") from error
            raise self._unexpected(error) from error
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
