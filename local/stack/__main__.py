"""``python -m local.stack``: run the local stack until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from local.stack.lambda_runtime import DEFAULT_MAX_WORKERS, MAX_WORKERS_ENV
from local.stack.stack import LocalStack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stack", description="coursepay's Docker-free local stack")
    parser.add_argument("--api-port", type=int, default=3000, help="HTTP API port (default 3000)")
    parser.add_argument("--aws-port", type=int, default=5050, help="moto server port (default 5050)")
    parser.add_argument("--stripe-port", type=int, default=12111, help="Stripe sandbox port (default 12111)")
    parser.add_argument("--no-seed", action="store_true", help="start without demo users")
    parser.add_argument("--state-dir", default=".local-state", help="log and outputs.json (default .local-state)")
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="NAME=VALUE", help="template parameter override"
    )
    parser.add_argument("--quiet", action="store_true", help="log to the state directory only")
    parser.add_argument(
        "--schedule-interval", type=float, default=None, metavar="SECONDS",
        help="run every Schedule event this often (default: the template's rate)",
    )
    parser.add_argument(
        "--max-workers-per-function", type=int, default=None, metavar="N",
        help=f"execution environments per function, started on demand (default ${MAX_WORKERS_ENV} or "
        f"{DEFAULT_MAX_WORKERS})",
    )
    args = parser.parse_args(argv)
    if args.max_workers_per_function is not None and args.max_workers_per_function < 1:
        parser.error("--max-workers-per-function must be at least 1")
    overrides = dict(item.split("=", 1) for item in args.parameter)

    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    stack = LocalStack(
        api_port=args.api_port,
        aws_port=args.aws_port,
        stripe_port=args.stripe_port,
        seed=not args.no_seed,
        state_dir=args.state_dir,
        parameter_overrides=overrides,
        warm=True,
        echo_logs=not args.quiet,
        schedule_interval=args.schedule_interval,
        max_workers_per_function=args.max_workers_per_function,
    )
    try:
        stack.start()
        print(stack.banner(), flush=True)
        while not stopping.wait(0.5):
            pass
        print("\nstopping...", flush=True)
    except OSError as error:
        print(f"local stack failed to start: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
