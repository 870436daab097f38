"""coursepay: payments and enrollment for learning platforms.

Layers, from the outside in: ``api`` (HTTP adapter) and ``events`` (bus and queue adapters) call the
domain services of each context (``accounts``, ``webhooks``, ...), which use ``storage`` and
``stripe_gateway``. Lower layers never import handlers or the HTTP adapter.
"""
