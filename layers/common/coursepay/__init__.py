"""coursepay: payments and enrollment for learning platforms.

Layers, from the outside in: ``api`` (HTTP adapter) and ``events`` (bus and queue adapters) call the
domain services of each context (``accounts``, ``webhooks``, ...), which use ``storage`` and
``stripe_gateway``. Lower layers never import handlers or the HTTP adapter.
"""

from pydantic import BaseModel

# Every model builds its validator and serializer at its first use, not when its class is defined: a handler's
# init imports every route's models but a request uses two or three (issue 13, docs/decisions.md D17). Pydantic has
# no project-wide setting; a model's config starts from its bases', so the default set here, before any coursepay
# model exists, is every model's.
# tests/unit/test_import_footprint.py fails if a handler's init builds a model again.
BaseModel.model_config["defer_build"] = True
