"""Paid tracks (bootcamps): the catalogue (data, not code), purchases signed in or payment-first, the
fulfilment of their Stripe events, enrollment progress and the tools provisioned per student.

See README.md ("Paid tracks") and docs/data-model.md for routes, policies and key design.
"""
