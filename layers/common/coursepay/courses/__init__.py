"""Course marketplace catalogue: courses, their Stripe Product and Prices, and teachers' management of them.
Buying a course, subscriptions and access live in ``coursepay.subscriptions``."""
