"""A stateful local Stripe server for development and tests (see README.md)."""

from .server import SandboxServer

__all__ = ["SandboxServer"]
