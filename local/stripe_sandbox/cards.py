"""Stripe's documented test cards, test PaymentMethod ids (``pm_card_*``) and tokens (``tok_*``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# behaviours
SUCCEED = "succeed"
DECLINE = "decline"  # declined on attach/setup and on charge
CHARGE_FAIL = "charge_fail"  # attaches / sets up fine, every charge is declined (4000000000000341)
AUTH_ON_SESSION = "auth_unless_setup"  # 3DS unless set up for off-session use (4000002500003155)
AUTH_ALWAYS = "auth_always"  # 3DS on every transaction (4000002760003184)
AUTH_THEN_DECLINE = "auth_then_decline"  # 3DS, then insufficient_funds (4000008260003178)


@dataclass(frozen=True)
class TestCard:
    number: str
    brand: str
    behaviour: str = SUCCEED
    decline_code: str | None = None
    code: str = "card_declined"
    message: str = "Your card was declined."
    funding: str = "credit"
    country: str = "US"

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.number.encode()).hexdigest()[:16]


def _decline(number: str, decline_code: str, message: str, code: str = "card_declined") -> TestCard:
    return TestCard(number, "visa", DECLINE, decline_code, code, message)


CARDS: dict[str, TestCard] = {
    c.number: c
    for c in [
        TestCard("4242424242424242", "visa"),
        TestCard("4000056655665556", "visa", funding="debit"),
        TestCard("5555555555554444", "mastercard"),
        TestCard("2223003122003222", "mastercard"),
        TestCard("5200828282828210", "mastercard", funding="debit"),
        TestCard("378282246310005", "amex"),
        TestCard("6011111111111117", "discover"),
        TestCard("3056930009020004", "diners"),
        TestCard("3566002020360505", "jcb"),
        TestCard("6200000000000005", "unionpay"),
        TestCard("4000000760000002", "visa", country="BR"),
        # succeed, then Stripe acts on the charge (resources/disputes.py, resources/balance.py)
        TestCard("4000000000000259", "visa"),
        TestCard("4000000000002685", "visa"),
        TestCard("4000000000001976", "visa"),
        TestCard("4000000404000038", "visa"),
        TestCard("4000000000000077", "visa"),
        TestCard("4000003720000278", "visa", country="GB"),
        TestCard("4000000000003220", "visa", AUTH_ALWAYS),
        TestCard("4000002500003155", "visa", AUTH_ON_SESSION),
        TestCard("4000002760003184", "visa", AUTH_ALWAYS),
        TestCard("4000008260003178", "visa", AUTH_THEN_DECLINE, "insufficient_funds",
                 message="Your card has insufficient funds."),
        TestCard("4000000000000341", "visa", CHARGE_FAIL, "generic_decline"),
        _decline("4000000000000002", "generic_decline", "Your card was declined."),
        _decline("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
        _decline("4000000000009987", "lost_card", "Your card was declined."),
        _decline("4000000000009979", "stolen_card", "Your card was declined."),
        _decline("4000000000000069", "expired_card", "Your card has expired.", "expired_card"),
        _decline("4000000000000127", "incorrect_cvc", "Your card's security code is incorrect.",
                 "incorrect_cvc"),
        _decline("4000000000000119", "processing_error",
                 "An error occurred while processing your card. Try again in a little bit.",
                 "processing_error"),
        _decline("4100000000000019", "fraudulent", "Your card was declined."),
    ]
}

# Test PaymentMethod ids -> card numbers
PM_TOKENS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "5200828282828210",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_diners": "3056930009020004",
    "pm_card_jcb": "3566002020360505",
    "pm_card_unionpay": "6200000000000005",
    "pm_card_br": "4000000760000002",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeDeclinedFraudulent": "4100000000000019",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds": "4000008260003178",
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_createDispute": "4000000000000259",
    "pm_card_createDisputeProductNotReceived": "4000000000002685",
    "pm_card_createDisputeInquiry": "4000000000001976",
    "pm_card_createCe3EligibleDispute": "4000000404000038",
    "pm_card_bypassPending": "4000000000000077",
    "pm_card_bypassPendingInternational": "4000003720000278",
}

# Legacy tokens (``card[token]=tok_visa``) -> card numbers
TOKENS: dict[str, str] = {
    "tok_" + name.removeprefix("pm_card_"): number for name, number in PM_TOKENS.items()
}


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if number[:1] == "5" or number[:2] == "22":
        return "mastercard"
    if number.startswith("6"):
        return "discover"
    return "unknown"


LIVE_CARD = "live_card"


def lookup(number: str) -> TestCard | None:
    """A test card; for other Luhn-valid numbers a card that Stripe test mode declines."""
    number = number.replace(" ", "").replace("-", "")
    if number in CARDS:
        return CARDS[number]
    if luhn_ok(number):
        return TestCard(number, brand_of(number), DECLINE, "test_mode_live_card", "card_declined",
                        "Your card was declined. Your request was in test mode, but used a non test "
                        "(live) card. For a list of valid test cards, visit: "
                        "https://stripe.com/docs/testing.")
    return None
