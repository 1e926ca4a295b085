"""Error-rate charts: a PNG when there is a trend to show, nothing otherwise."""

from __future__ import annotations

from engine.evidence.charts import error_rate_chart
from engine.evidence.logs.analyze import analyze_log
from tests.samples import checkout_log, healthy_log

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_a_log_with_an_error_timeline_gets_a_png() -> None:
    png = error_rate_chart([analyze_log("checkout.log", checkout_log())])
    assert png is not None and png.startswith(PNG_MAGIC) and len(png) > 5_000


def test_no_chart_without_errors_over_time() -> None:
    assert error_rate_chart([analyze_log("worker.log", healthy_log())]) is None
    one_minute = b"2026-11-21 14:00:00 ERROR boom\n2026-11-21 14:00:30 ERROR boom\n"
    assert error_rate_chart([analyze_log("blip.log", one_minute)]) is None
    assert error_rate_chart([]) is None


def test_several_files_share_one_chart() -> None:
    reports = [analyze_log(f"pod-{i}.log", checkout_log(seed=i)) for i in range(3)]
    png = error_rate_chart(reports)
    assert png is not None and png.startswith(PNG_MAGIC)
