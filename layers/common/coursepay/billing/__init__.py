"""Billing records shared by every product kind (courses, tracks, gigs): Stripe customers, payments,
enrollments (access), and the fulfilment dispatch of Stripe events."""
