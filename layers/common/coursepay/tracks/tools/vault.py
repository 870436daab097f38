"""The one secret coursepay keeps per student and track: the tool password (the PostgreSQL role's), generated
once per enrollment, encrypted with the KMS key ``ToolCredentialsKey`` and stored with the tool set; only the
learning function may decrypt it, for the signed-in student's own page (docs/decisions.md D11).

The encryption context binds a ciphertext to its student and track: copied to another student's record it does
not decrypt (and CloudTrail shows whose credential each Decrypt was for).
"""

from __future__ import annotations

import base64
import secrets
import string
from functools import cached_property
from typing import Any

from coursepay.aws_clients import traced_boto3

_ALPHABET = string.ascii_letters + string.digits


def new_tool_password(length: int = 32) -> str:
    """Letters and digits only: safe in a connection string, and what the adapters check it is."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


class CredentialVault:
    def __init__(self, key_id: str) -> None:
        self._key_id = key_id

    @cached_property
    def _kms(self) -> Any:  # once per container, at first use
        return traced_boto3().client("kms")

    @staticmethod
    def _context(user_id: str, track_id: str) -> dict[str, str]:
        return {"user_id": user_id, "track_id": track_id, "purpose": "tool-password"}

    def seal(self, plaintext: str, *, user_id: str, track_id: str) -> str:
        sealed = self._kms.encrypt(KeyId=self._key_id, Plaintext=plaintext.encode(),
                                   EncryptionContext=self._context(user_id, track_id))
        return base64.b64encode(sealed["CiphertextBlob"]).decode()

    def open(self, ciphertext: str, *, user_id: str, track_id: str) -> str:
        opened = self._kms.decrypt(CiphertextBlob=base64.b64decode(ciphertext), KeyId=self._key_id,
                                   EncryptionContext=self._context(user_id, track_id))
        return opened["Plaintext"].decode()
