"""Stripe's exceptions as domain errors, for every context that calls Stripe.

A card the issuer declines is a 402 (with Stripe's reason); 5xx, network and rate-limit failures are 503 (a
retry may fix them); an idempotency clash is a 409; a request Stripe refuses is a 400 naming the parameter, or
``refused`` when the caller says what it is (e.g. a refund larger than what remains is a 409). The SDK is
imported only when the block runs (functions that never call Stripe never import it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from coursepay.errors import Conflict, DomainError, InvalidRequest, PaymentDeclined, UpstreamUnavailable
from coursepay.observability import logger


@contextmanager
def stripe_errors(action: str, *, refused: type[DomainError] = InvalidRequest) -> Iterator[None]:
    import stripe

    try:
        yield
    except stripe.CardError as error:
        raise PaymentDeclined(f"the card was declined: {error.user_message or error}",
                              code=error.code or "card_declined") from error
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
        logger.warning("stripe unavailable", action=action, error=str(error))
        raise UpstreamUnavailable(f"payment provider unavailable while trying to {action}; retry later") from error
    except stripe.IdempotencyError as error:
        raise Conflict(f"a different request with this idempotency key was already made ({action})") from error
    except stripe.InvalidRequestError as error:
        logger.warning("stripe refused", action=action, error=str(error), param=error.param)
        raise refused(f"the payment provider refused to {action}: {error.user_message or error}",
                      field=error.param if refused is InvalidRequest else None) from error
    except stripe.StripeError as error:  # authentication, permission: our configuration, not the caller's
        logger.exception("stripe error", action=action)
        raise UpstreamUnavailable(f"payment provider error while trying to {action}") from error
