"""Spikes and level shifts in one series of values. Deterministic, numpy, O(n log n).

Spikes first: points far above a centred 11-point rolling median, in MADs of the residuals.
Bursts of up to five points stand out from such a median; a lasting change moves the median
with it, so a step is never a spike.

Level shifts are looked for in a copy with the spikes replaced by their baseline, under a
5-point median filter (both keep steps exactly where they are). Candidates are the places
where the median of the next few points differs most from that of the previous few (a
moving window finds a short incident inside a long export as well as one long step), each
placed exactly by a one-split CUSUM search around it. Candidates are then pruned, weakest
first, until every remaining cut separates segments that
- differ by SHIFT_RELATIVE of the level (a change a person would call one) and by SHIFT_Z
  standard errors of their medians, each segment with its own noise;
- differ by more than either segment's interquartile range (waves are not steps);
- last: the new level holds for `_persistence` points (a burst is a spike, not a shift);
- change abruptly: much of the change happens across the cut itself, so ramps are not steps.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Floats = NDArray[np.float64]

_MAD_TO_SIGMA = 1.4826  # MAD of normal noise * this = its standard deviation
_CHUNK = 1 << 16  # rows of the rolling-median window matrix held at once

MIN_SPIKE_POINTS = 5
MAX_SPIKES = 5
SPIKE_SIGMAS = 6.0
SPIKE_RELATIVE = 0.3  # above the baseline, as a share of it
_SPIKE_WINDOW = 11
_BURST_GAP = 2  # flagged points this close are one burst, reported at its peak

MIN_SHIFT_POINTS = 8
MAX_SHIFTS = 3
SHIFT_Z = 6.0  # the change in standard errors of the two medians
_MEDIAN_ERROR = 1.2533  # standard error of a median = this * sigma / sqrt(n), normal noise
SHIFT_RELATIVE = 0.2  # of the larger level: a 10% wobble is not an incident
SHIFT_OVER_SPREAD = 1.0  # the change against the interquartile range of either side
SHIFT_ABRUPT = 0.4  # share of the change that must happen right at the split
_LAG = 2  # a step that takes two samples (one point half-way) is still a step
_SHIFT_FILTER = 5
_MIN_BEFORE = 2  # an export that starts just before the incident still dates it right
_OWN_NOISE_POINTS = 10
_MAX_CANDIDATES = 24
MAX_SHIFT_SCAN = 20_000  # places examined; bounds the work on pathological series


class Found(NamedTuple):
    position: int
    before: float  # shifts: median before; spikes: the rolling median (baseline)
    after: float  # shifts: median after; spikes: the peak value


def rolling_median(values: Floats, window: int) -> Floats:
    """Centred median; the ends are mirrored so the first and last points are judged too."""
    window = min(window, len(values) if len(values) % 2 else len(values) - 1)
    if window < 3:
        return values.copy()
    half = window // 2
    padded = np.pad(values, half, mode="reflect")
    out = np.empty_like(values)
    for start in range(0, len(values), _CHUNK):
        stop = min(start + _CHUNK, len(values))
        windows = sliding_window_view(padded[start : stop + 2 * half], window)
        out[start:stop] = np.median(windows, axis=1)
    return out


def _mad(values: Floats) -> float:
    return float(np.median(np.abs(values - np.median(values)))) if len(values) else 0.0


def _spike_mask(values: Floats) -> tuple[NDArray[np.bool_], Floats]:
    baseline = rolling_median(values, _SPIKE_WINDOW)
    excess = values - baseline
    scale = _MAD_TO_SIGMA * _mad(excess)
    high = (excess > SPIKE_SIGMAS * scale) & (excess > SPIKE_RELATIVE * np.abs(baseline))
    return high, baseline


def find_spikes(values: Floats) -> tuple[list[Found], Floats]:
    """(the strongest bursts in time order, values with every burst replaced by its baseline)."""
    if len(values) < MIN_SPIKE_POINTS:
        return [], values
    high, baseline = _spike_mask(values)
    peaks: list[int] = []
    for i in np.flatnonzero(high).tolist():
        if peaks and i - peaks[-1] <= _BURST_GAP:
            if values[i] > values[peaks[-1]]:
                peaks[-1] = i
            continue
        peaks.append(i)
    strongest = sorted(peaks, key=lambda i: (-(values[i] - baseline[i]), i))[:MAX_SPIKES]
    found = [Found(i, float(baseline[i]), float(values[i])) for i in sorted(strongest)]
    return found, np.where(high, baseline, values)


def _persistence(n: int) -> int:
    return max(3, min(_SPIKE_WINDOW // 2 + 1, n // 4))


def _noise(values: Floats) -> float:
    """Point-to-point noise from differences, which ignore the level: a step barely moves it."""
    return _MAD_TO_SIGMA * _mad(np.diff(values)) / math.sqrt(2)


def _centred_sums(smooth: Floats, lo: int, hi: int) -> Floats:
    """Running sums of [lo, hi) around its median, from 0: sums[j] covers the first j points."""
    segment = smooth[lo:hi] - np.median(smooth[lo:hi])  # centred: the sums keep their precision
    return np.concatenate(([0.0], np.cumsum(segment)))


def _best_split(smooth: Floats, lo: int, hi: int) -> int | None:
    """The one split of [lo, hi) that best separates two means (CUSUM); None if too short."""
    size = hi - lo
    if size < 2 * _MIN_BEFORE:
        return None
    sums = _centred_sums(smooth, lo, hi)
    left = np.arange(_MIN_BEFORE, size - _MIN_BEFORE + 1)
    gap = sums[left] / left - (sums[-1] - sums[left]) / (size - left)
    gain = left * (size - left) / size * gap**2
    return lo + int(left[int(np.argmax(gain))])  # argmax takes the first of equal gains


def _iqr(values: Floats) -> float:
    low, high = np.percentile(values, [25, 75])
    return float(high - low)


class _Judge:
    """Whether a split of a segment is a level shift, with the series-wide yardsticks.

    Significance is judged on logarithms when every value is positive: latency, rates and
    sizes vary in proportion to their level, so 800 ms is noisier than 100 ms.
    """

    def __init__(self, values: Floats, smooth: Floats) -> None:
        self.values = values
        self.reach = _persistence(len(values))
        positive = bool(values.min() > 0)
        self.scaled = np.log(values) if positive else values
        self.scaled_smooth = np.log(smooth) if positive else smooth  # medians commute with log
        self.noise = _noise(self.scaled)
        # Pruning asks again about the cuts whose neighbours did not change.
        self._verdicts: dict[tuple[int, int, int], bool] = {}
        self._medians: dict[tuple[int, int], float] = {}

    def _median(self, lo: int, hi: int) -> float:
        found = self._medians.get((lo, hi))
        if found is None:
            found = self._medians[lo, hi] = float(np.median(self.values[lo:hi]))
        return found

    def medians(self, lo: int, at: int, hi: int) -> tuple[float, float]:
        return self._median(lo, at), self._median(at, hi)

    def lasts(self, at: int, hi: int) -> bool:
        return hi - at >= self.reach

    def _error(self, lo: int, hi: int) -> float:
        """Standard error of the (scaled) median of [lo, hi), with the segment's own noise."""
        noise = self.noise
        if hi - lo >= _OWN_NOISE_POINTS:  # fewer differences say little about the noise
            noise = max(_noise(self.scaled[lo:hi]), noise / 2)
        return _MEDIAN_ERROR * noise / math.sqrt(hi - lo)

    def _significant(self, lo: int, at: int, hi: int) -> bool:
        before, after = self.scaled[lo:at], self.scaled[at:hi]
        size = abs(float(np.median(after) - np.median(before)))
        if size < SHIFT_Z * math.hypot(self._error(lo, at), self._error(at, hi)):
            return False
        # Waves and bursty series spread widely around any level; a shift clears that spread.
        return size > SHIFT_OVER_SPREAD * max(_iqr(before), _iqr(after))

    def _abrupt(self, lo: int, at: int, hi: int) -> bool:
        """Most of the change happens at the split, between the points either side and
        within _LAG points: a ramp or a wave moves a little at every point instead."""
        scaled, smooth = self.scaled, self.scaled_smooth
        change = float(np.median(scaled[at:hi]) - np.median(scaled[lo:at]))
        near = float(np.median(scaled[at : at + self.reach]))
        near -= float(np.median(scaled[max(lo, at - self.reach) : at]))
        across = float(smooth[min(at + _LAG - 1, len(smooth) - 1)] - smooth[at - 1])
        return min(near / change, across / change) >= SHIFT_ABRUPT

    def is_shift(self, lo: int, at: int, hi: int) -> bool:
        key = (lo, at, hi)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = self._judge(lo, at, hi)
        return verdict

    def _judge(self, lo: int, at: int, hi: int) -> bool:
        if at - lo < _MIN_BEFORE or not self.lasts(at, hi):
            return False
        before, after = self.medians(lo, at, hi)
        if abs(after - before) <= SHIFT_RELATIVE * max(abs(before), abs(after)):
            return False
        return self._significant(lo, at, hi) and self._abrupt(lo, at, hi)


def _window_medians(smooth: Floats, width: int) -> tuple[Floats, Floats]:
    """Per position k: the median of the `width` points before k and of those from k on.
    Near the start the window before is shorter; near the end there is none after (NaN)."""
    n = len(smooth)
    ahead = np.full(n, np.nan)
    ahead[: n - width + 1] = np.median(sliding_window_view(smooth, width), axis=1)
    behind = np.full(n, np.nan)
    behind[width:] = ahead[: n - width]
    for k in range(_MIN_BEFORE, min(width, n)):
        behind[k] = np.median(smooth[:k])
    return behind, ahead


def _candidates(judge: _Judge, smooth: Floats) -> list[int]:
    """Where the level right after differs most from the level right before (a moving
    window, so a short incident inside a long export is found as well as one long step),
    each placed exactly by a one-split search around it; strongest first."""
    width, n = judge.reach, len(smooth)
    behind, ahead = _window_medians(smooth, width)
    jump = np.abs(ahead - behind)
    level = np.maximum(np.abs(ahead), np.abs(behind))
    jump[~(jump > SHIFT_RELATIVE * level)] = 0.0  # NaN ends and small changes alike
    found: list[int] = []
    for k in np.argsort(-jump, kind="stable").tolist():
        if jump[k] <= 0 or len(found) >= _MAX_CANDIDATES:
            break
        if all(abs(k - other) >= width for other in found):
            found.append(k)
    placed = {
        _best_split(judge.scaled_smooth, max(0, k - width), min(n, k + width)) or k for k in found
    }
    return sorted(placed)


def _strength(judge: _Judge, lo: int, at: int, hi: int) -> float:
    before, after = judge.medians(lo, at, hi)
    return abs(after - before) / max(abs(before), abs(after), 1e-300)


def _prune(judge: _Judge, cuts: list[int], n: int) -> list[int]:
    """Drop, weakest first, the cuts whose neighbouring segments do not differ as a level
    shift must; each drop merges two segments, so the others are judged again."""
    while cuts:
        bounds = [0, *cuts, n]
        failing = [
            (_strength(judge, bounds[i - 1], cut, bounds[i + 1]), cut)
            for i, cut in enumerate(cuts, 1)
            if not judge.is_shift(bounds[i - 1], cut, bounds[i + 1])
        ]
        if not failing:
            break
        cuts = [c for c in cuts if c != min(failing)[1]]
    return cuts


def find_shifts(values: Floats) -> list[Found]:
    """Level shifts, in time order: (first point at the new level, median before, after)."""
    n = len(values)
    if n < MIN_SHIFT_POINTS:
        return []
    smooth = rolling_median(values, _SHIFT_FILTER)
    judge = _Judge(values, smooth)
    cuts = _prune(judge, _candidates(judge, smooth), n)
    bounds = [0, *cuts, n]
    found = [
        Found(c, *judge.medians(bounds[i - 1], c, bounds[i + 1])) for i, c in enumerate(cuts, 1)
    ]
    strongest = sorted(
        found, key=lambda f: -abs(f.after - f.before) / max(abs(f.before), abs(f.after))
    )
    return sorted(strongest[:MAX_SHIFTS])


def _bucket_medians(values: Floats, size: int) -> Floats:
    full = len(values) // size * size
    medians = np.median(values[:full].reshape(-1, size), axis=1)
    if full < len(values):
        medians = np.append(medians, np.median(values[full:]))
    return medians


def find_changes(values: Floats) -> tuple[list[Found], list[Found]]:
    """(level shifts, spikes) of one series.

    Past MAX_SHIFT_SCAN points, shifts are looked for in medians of equal buckets: at that
    length a 6-point window is lost in its own noise, and the time of a shift is still
    given to within a bucket."""
    spikes, cleaned = find_spikes(values)
    n = len(cleaned)
    if n <= MAX_SHIFT_SCAN:
        return find_shifts(cleaned), spikes
    size = -(-n // MAX_SHIFT_SCAN)
    cuts = [shift.position * size for shift in find_shifts(_bucket_medians(cleaned, size))]
    bounds = [0, *cuts, n]
    shifts = [
        Found(
            cut,
            float(np.median(cleaned[bounds[i - 1] : cut])),
            float(np.median(cleaned[cut : bounds[i + 1]])),
        )
        for i, cut in enumerate(cuts, 1)
    ]
    return shifts, spikes
