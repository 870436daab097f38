"""``python -m local.stripe_sandbox --port 12111`` — run the Stripe sandbox in the foreground."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from .server import SandboxServer


def _delays(value: str) -> list[float]:
    try:
        delays = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated seconds, e.g. 1,2,4") from None
    if any(d < 0 for d in delays):
        raise argparse.ArgumentTypeError("delays must be >= 0")
    return delays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stripe_sandbox",
                                     description="A stateful local Stripe API for development and tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--state-file", help="JSON file the state is saved to (and loaded from at start-up)")
    parser.add_argument("--webhook-url", help="pre-register a webhook endpoint for every event type")
    parser.add_argument("--webhook-secret", help="signing secret (whsec_...) for --webhook-url")
    parser.add_argument("--webhook-events", default="*", help="comma-separated enabled_events (default *)")
    parser.add_argument("--retry-delays", type=_delays, default=[1.0, 2.0, 4.0],
                        help="seconds between webhook retries, e.g. 1,2,4 (default)")
    parser.add_argument("--delivery-timeout", type=float, default=5.0, help="webhook request timeout (s)")
    parser.add_argument("--public-url", help="base address used in checkout/3DS URLs (default http://host:port)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if args.webhook_secret and not args.webhook_url:
        parser.error("--webhook-secret needs --webhook-url")
    if args.webhook_secret and not args.webhook_secret.startswith("whsec_"):
        parser.error("--webhook-secret must start with whsec_")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s")
    server = SandboxServer(
        args.host, args.port, state_file=args.state_file, webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret, webhook_events=args.webhook_events.split(","),
        retry_delays=args.retry_delays, delivery_timeout=args.delivery_timeout, public_url=args.public_url,
        verbose=args.verbose,
    )

    def _term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    endpoint = getattr(server, "preregistered_endpoint", None)
    print(f"Stripe sandbox listening on {server.url}", flush=True)
    if endpoint:
        print(f"Webhook endpoint {endpoint['id']} -> {endpoint['url']} (secret {endpoint['secret']})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
