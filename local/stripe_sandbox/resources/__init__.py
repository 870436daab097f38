"""Resource modules; importing this package registers every route on ``router.ROUTER``.

Order matters for payment hooks: invoices/subscriptions react to a PaymentIntent
outcome before Checkout Sessions do, and both before a dispute test card's dispute
(``disputes`` is imported after ``checkout``, which imports the subscriptions module).
"""

from . import (  # noqa: F401
    balance,
    checkout,
    control,
    customers,
    disputes,
    events,
    payment_intents,
    payment_methods,
    products_prices,
    refunds,
    subscriptions_invoices,
    test_clocks,
    webhooks,
)
