"""Resource modules; importing this package registers every route on ``router.ROUTER``.

Order matters for payment hooks: invoices/subscriptions react to a PaymentIntent
outcome before Checkout Sessions do, and both before a dispute test card's dispute
(``disputes`` is imported after ``checkout``, which imports the subscriptions module).
"""

from . import (  # noqa: F401
    application_fees,
    balance,
    billing_portal,
    capture,
    checkout,
    connect_accounts,
    connect_links,
    control,
    coupons,
    customers,
    disputes,
    events,
    external_accounts,
    invoice_items,
    invoice_preview,
    payment_intents,
    payment_methods,
    payouts,
    plans,
    products_prices,
    promotion_codes,
    refunds,
    setup_intents,
    subscription_updates,
    subscriptions_invoices,
    test_clocks,
    transfers,
    webhooks,
)
