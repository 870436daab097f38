"""The payment-first set-password invitation (moto DynamoDB in-process): once per account, and a send that
failed leaves no working link behind (its retry issues a new one)."""

from __future__ import annotations

import pytest

from coursepay.accounts.invitations import SetPasswordInvitations
from coursepay.accounts.tokens import AccountLinks
from coursepay.errors import InvalidRequest
from coursepay.storage.idempotency import IdempotencyStore

PAGE = "https://app.example.com/set-password"


@pytest.fixture
def invitations(aws):
    links = AccountLinks(aws.name("AccountsTable"))
    return links, SetPasswordInvitations(links, IdempotencyStore(aws.name("IdempotencyTable")), PAGE)


def test_an_account_is_invited_once_however_many_welcomes_ask(invitations):
    links, invite = invitations
    sent: list[str] = []
    assert invite.once("user-1", sent.append) is True
    assert invite.once("user-1", sent.append) is False  # a second purchase's welcome
    assert invite.once("user-2", sent.append) is True  # another account has its own
    assert len(sent) == 2
    assert sent[0].startswith(f"{PAGE}?token=")
    assert links.use(sent[0].split("token=")[1], "password").user_id == "user-1"


def test_a_failed_send_is_retried_with_a_new_link_and_the_unsent_one_never_works(invitations):
    links, invite = invitations
    attempted: list[str] = []

    def bounce(link: str) -> None:
        attempted.append(link)
        raise ConnectionError("SES unavailable")

    with pytest.raises(ConnectionError):
        invite.once("user-1", bounce)
    sent: list[str] = []
    assert invite.once("user-1", sent.append) is True  # the claim was released: the retry sends
    [unsent], [delivered] = attempted, sent
    assert unsent != delivered
    with pytest.raises(InvalidRequest) as refused:
        links.use(unsent.split("token=")[1], "password")
    assert refused.value.code == "token_superseded"
    assert links.use(delivered.split("token=")[1], "password").user_id == "user-1"
