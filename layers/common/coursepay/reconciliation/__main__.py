"""``python -m coursepay.reconciliation [--since 2h]``: one reconciliation run from a shell, with the settings
the scheduled function has (STRIPE_EVENTS_TABLE, EVENT_BUS_NAME, STRIPE_API_KEY_SECRET_ID, STRIPE_API_BASE
and the optional RECONCILIATION_* values, from the environment). Without ``--since`` it starts where the
schedule would; with it, from that time (the checkpoint still only moves forward). Prints the report as JSON;
exit status 2 for a bad ``--since`` or missing settings."""

from __future__ import annotations

import argparse
import json
import sys

from pydantic import ValidationError

from coursepay.clock import utc_now
from coursepay.errors import InvalidRequest
from coursepay.reconciliation.service import StripeEventReconciler
from coursepay.reconciliation.since import parse_since
from coursepay.settings import ReconciliationSettings, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursepay.reconciliation",
                                     description="Relay the Stripe events coursepay missed, and stuck ones")
    parser.add_argument("--since", help="ISO time or duration back from now (2h, 1d, 1h30m); default: checkpoint")
    args = parser.parse_args(argv)
    try:
        since = parse_since(args.since, now=utc_now()) if args.since else None
        settings = load_settings(ReconciliationSettings)
    except InvalidRequest as error:
        parser.error(error.message)
    except ValidationError as error:
        parser.error(f"settings missing from the environment: {error}")
    report = StripeEventReconciler.from_settings(settings).run(since=since)
    json.dump(report.model_dump(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
