"""An alert's own series: its rule's PromQL from the generatorURL, without the threshold."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from engine.cases.alert_series import alert_expression, without_comparison


@pytest.mark.parametrize(
    ("expr", "series"),
    [
        (
            'sum by (service) (rate(http_requests_total{code=~"5.."}[1m])) > 1',
            'sum by (service) (rate(http_requests_total{code=~"5.."}[1m]))',
        ),
        ('up{job="api"} == 0', 'up{job="api"}'),
        (
            "node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.1",
            "node_filesystem_avail_bytes / node_filesystem_size_bytes",
        ),
        ('rate(errors_total{path!="/>"}[5m]) >= 0.5', 'rate(errors_total{path!="/>"}[5m])'),
        ("absent(up)", "absent(up)"),  # nothing to drop
    ],
)
def test_the_threshold_is_dropped_and_the_series_kept(expr: str, series: str) -> None:
    assert without_comparison(expr) == series


def test_the_expression_comes_from_the_generator_url() -> None:
    expr = 'sum by (service) (rate(x{code="500"}[1m])) > 1'
    url = f"http://prometheus:9090/graph?g0.expr={quote(expr)}&g0.tab=1"
    assert alert_expression(url) == expr
    assert alert_expression("") is None
    assert alert_expression("http://prometheus:9090/graph") is None
