"""``python -m coursepay.subscriptions.backfill --table <PaymentsTable's name>``: the live-subscription marks
(docs/data-model.md, "Course subscriptions") of the subscriptions stored before the marks existed, once per table
after deploying them (docs/operations.md). Safe beside live traffic and to run again: each mark's update is written
on condition that its record's status is still the one scanned (a record whose status changed meanwhile moved its
mark itself: skipped), and adding or deleting a set member twice is once. Reads the whole table (a scan); prints
``{"marked": n, "skipped": m}``."""

from __future__ import annotations

import argparse
import json
import sys

from coursepay.subscriptions.repository import SubscriptionsRepository


def backfill(repository: SubscriptionsRepository) -> dict[str, int]:
    counts = {"marked": 0, "skipped": 0}
    for item in repository.records():
        counts["marked" if repository.backfill_mark(item) else "skipped"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursepay.subscriptions.backfill",
                                     description="Write the live-subscription mark of every stored subscription")
    parser.add_argument("--table", required=True, help="the PaymentsTable's name")
    args = parser.parse_args(argv)
    json.dump(backfill(SubscriptionsRepository(args.table)), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
