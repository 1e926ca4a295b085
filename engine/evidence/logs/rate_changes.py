"""When did a count series change its rate? Poisson likelihood ratios, exact and explainable.

Log events are counts per time bucket, mostly small and often zero, which the median/MAD
tests used for metrics cannot judge (a MAD of zero makes every error a spike). Counts are
compared as Poisson rates instead: for every window [start, stop) of the series, the
likelihood ratio statistic G of "one rate inside, another outside" against "one rate for
all". The window with the largest G is the incident: a step when it runs to the end, a
burst with recovery otherwise. It is reported only when a person would call it a change:
G large (MIN_G), the rate inside MIN_RATIO times the rate outside, enough events and a
baseline long enough to judge (MIN_BASELINE buckets outside the window).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

MIN_G = 20.0  # about p < 1e-5 for one test; the scan makes many, so stay well clear of 10
MIN_RATIO = 3.0
MIN_EVENTS = 5
MIN_BASELINE = 3


class RateWindow(NamedTuple):
    start: int  # first bucket of the window
    stop: int  # bucket after the window; len(counts) when it lasts to the end
    inside: int  # events in the window
    outside: int  # events outside it
    strength: float  # G


def _xlogy(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """x * log(y), with 0 * log(0) = 0."""
    out = np.zeros_like(x)
    mask = x > 0
    out[mask] = x[mask] * np.log(y[mask])
    return out


def g_statistic(inside: float, n_inside: float, outside: float, n_outside: float) -> float:
    """G of two Poisson rates (events over buckets), against one shared rate."""
    total, n = inside + outside, n_inside + n_outside
    if total <= 0 or n_inside <= 0 or n_outside <= 0:
        return 0.0
    rate = total / n
    g = 0.0
    for events, buckets in ((inside, n_inside), (outside, n_outside)):
        if events > 0:
            g += events * np.log(events / (rate * buckets))
    return float(2 * g)


def find_rate_window(counts: Sequence[int]) -> RateWindow | None:
    """The window where the rate rose the most clearly, or None when nothing rose."""
    n = len(counts)
    if n < MIN_BASELINE + 1 or sum(counts) < MIN_EVENTS:
        return None
    cumulative = np.concatenate(([0.0], np.cumsum(np.asarray(counts, dtype=np.float64))))
    total = cumulative[-1]
    # All windows at once: rows are starts, columns stops (n <= a few hundred buckets).
    start = np.arange(n + 1)[:, None]
    stop = np.arange(n + 1)[None, :]
    inside = cumulative[None, :] - cumulative[:, None]
    n_inside = (stop - start).astype(np.float64)
    n_outside = n - n_inside
    valid = (n_inside > 0) & (n_outside >= MIN_BASELINE)
    outside = total - inside
    rate = total / n
    safe_in = np.where(valid, n_inside, 1.0)
    safe_out = np.where(valid, n_outside, 1.0)
    g = 2 * (
        _xlogy(inside, inside / (rate * safe_in) + (inside == 0))
        + _xlogy(outside, outside / (rate * safe_out) + (outside == 0))
    )
    rising = inside * safe_out >= MIN_RATIO * outside * safe_in
    g = np.where(valid & rising & (inside >= MIN_EVENTS), g, 0.0)
    best = int(np.argmax(g))
    row, col = divmod(best, n + 1)
    if g[row, col] < MIN_G:
        return None
    # The best window can carry quiet buckets at its edges; trim them, they are baseline.
    while row < col and counts[row] == 0:
        row += 1
    while col > row and counts[col - 1] == 0:
        col -= 1
    return RateWindow(
        row, col, int(inside[row, col]), int(total - inside[row, col]), float(g[row, col])
    )
