"""deploy/grafana/elearn.json asks only for metrics the app's /metrics shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REDIS_URL

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "elearn.json"

#: PromQL words that are not metric names
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "topk", "bottomk", "quantile", "stddev", "stdvar",
    "rate", "irate", "increase", "delta", "deriv", "histogram_quantile", "abs", "clamp_min",
    "clamp_max", "label_replace", "vector", "scalar", "time", "absent", "by", "without", "on",
    "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
}  # fmt: skip
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (label values, matchers, ranges and
    grouping labels taken out first)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"label_values\(\s*([a-zA-Z_:][\w:]*)\s*,[^)]*\)", r"\1", expr)
    words = set(re.findall(r"(?<![\w.])[a-zA-Z_:][\w:]*", expr))
    return words - PROMQL_WORDS


def expressions(dashboard: dict) -> list[str]:
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found.append(target["expr"])
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found.append(variable["definition"])
    return found


def test_the_expression_reader_finds_the_metrics_and_only_them():
    expr = (
        "topk(10, histogram_quantile(0.95, sum by (le, endpoint) "
        '(rate(elearn_x_bucket{instance=~"$instance", status=~"5.."}[5m])))) + on (job) up'
    )
    assert metric_names(expr) == {"elearn_x_bucket", "up"}
    assert metric_names("label_values(elearn_y_total, instance)") == {"elearn_y_total"}


def test_every_metric_the_dashboard_reads_is_on_the_metrics_page(app, client):
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    wanted = set().union(*(metric_names(e) for e in expressions(dashboard)))
    assert wanted, "no expression read"

    client.get("/healthz")  # the request metrics have a series
    celery = app.config["CELERY"]
    broker = celery["broker_url"]
    celery["broker_url"] = REDIS_URL  # the queue lengths are read from a Redis broker
    try:
        page = client.get("/metrics").get_data(as_text=True)
    finally:
        celery["broker_url"] = broker
    shown = set()
    for family in text_string_to_metric_families(page):
        shown.add(family.name)
        shown.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    assert wanted - shown == set(), f"the dashboard reads metrics /metrics lacks: {wanted - shown}"
    # and it reads every metric of ours that the page shows
    ours = {name for name in shown if name.startswith("elearn_") and not name.endswith("_created")}
    read = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in wanted}
    unread = {name for name in ours if re.sub(r"_(total|bucket|count|sum)$", "", name) not in read}
    assert unread == set(), f"on /metrics but on no panel: {unread}"
