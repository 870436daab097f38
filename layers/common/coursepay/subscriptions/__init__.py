"""Buying courses: Checkout Sessions, the one fulfilment path shared by webhooks and the success page,
subscriptions (renewal, failed renewal, cancellation) and the access they grant."""
