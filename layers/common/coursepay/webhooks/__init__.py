"""Stripe webhook ingestion: verify, record once, relay to the bus. Domain handling happens in the
bus's consumers (docs/decisions.md)."""
