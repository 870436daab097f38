"""Resource modules; importing this package registers every route on ``router.ROUTER``.

Order matters for payment hooks: invoices/subscriptions react to a PaymentIntent
outcome before Checkout Sessions do.
"""

from . import (  # noqa: F401
    checkout,
    control,
    customers,
    events,
    payment_intents,
    payment_methods,
    products_prices,
    refunds,
    subscriptions_invoices,
    test_clocks,
    webhooks,
)
