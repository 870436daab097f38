"""The load bench's percentile is the nearest-rank one: p99 of 1,000 samples is the 990th smallest."""

from __future__ import annotations

import random

from bench.load import percentile


def test_nearest_rank_percentiles() -> None:
    samples = [float(n) for n in range(1, 1001)]
    random.Random(13).shuffle(samples)
    assert percentile(samples, 0.99) == 990.0
    assert percentile(samples, 0.50) == 500.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([1.0, 2.0, 3.0], 0.99) == 3.0
