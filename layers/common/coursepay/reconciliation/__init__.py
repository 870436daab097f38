"""Recovery of Stripe events the webhook missed (docs/decisions.md D6): a scheduled run pages Stripe's
``events.list`` since a checkpoint and feeds every event through the webhook's relay (stored once,
published once); stored events stuck unpublished are published again; a single Checkout Session's events
can be recovered on demand (``CheckoutSessionRecovery``). Operator command: ``python -m
coursepay.reconciliation --since 2h``."""
