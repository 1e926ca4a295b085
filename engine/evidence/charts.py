"""PNG charts of evidence timelines (matplotlib, headless), for the thread."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from engine.evidence.logs.report import LogReport

MIN_POINTS = 2  # one minute of errors is a number, not a trend
MAX_SERIES = 6  # more lines than this is noise in a Slack-sized chart


def error_rate_chart(reports: list[LogReport]) -> bytes | None:
    """Errors per minute, one line per file; None when no file has a timeline worth drawing."""
    series = [r for r in reports if len(r.error_timeline) >= MIN_POINTS][:MAX_SERIES]
    if not series:
        return None
    import matplotlib  # heavy; only when there is something to draw

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3), dpi=110)
    try:
        for report in series:
            # The whole span of the file, zeros included: the quiet minutes before the errors
            # start are part of the story ("errors start 14:02").
            counts = {m.minute: m.count for m in report.error_timeline}
            first = report.first_ts or min(counts)
            last = report.last_ts or max(counts)
            start = min(first.replace(second=0, microsecond=0), min(counts))
            end = max(last.replace(second=0, microsecond=0), max(counts))
            steps = int((end - start).total_seconds() // 60) + 1
            minutes = [start + timedelta(minutes=i) for i in range(steps)]
            xs = mdates.date2num(minutes)
            ax.plot(xs, [counts.get(m, 0) for m in minutes], label=report.name, linewidth=1.6)
        ax.set_title("Errors per minute (UTC)", fontsize=10)
        ax.set_ylabel("errors / min", fontsize=9)
        ax.grid(alpha=0.3)
        span = max(len(r.error_timeline) for r in series)
        _minute_axis(ax, mdates, max(steps, span))
        ax.tick_params(labelsize=8)
        ax.set_ylim(bottom=0)
        if len(series) > 1:
            ax.legend(fontsize=8)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)


def _minute_axis(ax: Any, mdates: Any, minutes: int) -> None:
    """Ticks on round minutes (or hours), about eight of them, labelled HH:MM."""
    for step in (1, 2, 5, 10, 15, 30):
        if minutes / step <= 10:
            ax.xaxis.set_major_locator(mdates.MinuteLocator(byminute=range(0, 60, step)))
            break
    else:
        hours = minutes / 60
        step = next((h for h in (1, 2, 3, 6, 12) if hours / h <= 10), 24)
        ax.xaxis.set_major_locator(mdates.HourLocator(byhour=range(0, 24, step)))
    label = "%H:%M" if minutes <= 24 * 60 else "%m-%d %H:%M"
    ax.xaxis.set_major_formatter(mdates.DateFormatter(label))
