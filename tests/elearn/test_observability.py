"""What an operator sees: the request id in answers and log lines, /metrics and who may read it,
the queues' lengths, Sentry off without a DSN (tests/elearn/test_sentry.py has it on)."""

from __future__ import annotations

import io
import ipaddress
import logging
import os
import re
import urllib.error
import urllib.request

import pytest
import redis as redis_lib
from prometheus_client.parser import text_string_to_metric_families

from elearn import metrics
from tests.conftest import REDIS_URL, csrf_token, unit_by_code
from tests.elearn.test_rosters import GOOD, csv_bytes


def scrape(client, **kwargs) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """/metrics as {(sample name, sorted labels): value}."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- the request id --------------------------------------------------------------------------------


def test_every_answer_names_its_request_and_a_plain_id_sent_is_kept(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    again = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made) and made != again
    sent = "nginx-4f1c2b7e.9:1"
    assert client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"] == sent
    # an error page names it too: that is the answer an operator is asked about
    assert (
        client.get("/no-such-page", headers={"X-Request-ID": sent}).headers["X-Request-ID"] == sent
    )


@pytest.mark.parametrize("sent", ["two words", 'x"><script>', "a" * 65, "line\nbreak", "中文", ""])
def test_an_id_that_is_long_or_not_plain_is_replaced(client, sent):
    # as the server hands it on (the test client itself refuses a newline in a header)
    got = client.get("/healthz", environ_base={"HTTP_X_REQUEST_ID": sent}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", got)


def test_a_request_and_the_task_it_queues_log_under_its_id(app, as_user, caplog):
    """The roster upload queues the import (run eagerly here): the task's log lines carry the id
    of the request that queued it; lines after it carry none.
    (tests/elearn/test_observability_processes.py: the same through a real worker.)"""
    app.extensions["celery"].set_current()  # not a Celery() another test made (test_rosters.py)
    client = as_user("school_admin")
    token = csrf_token(client, "/")
    caplog.set_level(logging.INFO)
    response = client.post(
        "/api/v1/rosters",
        data={
            "unit": str(unit_by_code("S0101").id),
            "file": (io.BytesIO(csv_bytes(GOOD)), "roster.csv"),
        },
        headers={"X-CSRFToken": token, "X-Request-ID": "roster-upload-1"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] == "roster-upload-1"
    logging.getLogger("tests").info("after the request")
    task_lines = [r for r in caplog.records if "elearn.import_roster" in r.getMessage()]
    assert task_lines, [r.getMessage() for r in caplog.records]
    assert {getattr(r, "request_id", None) for r in task_lines} == {"roster-upload-1"}
    after = [r for r in caplog.records if r.getMessage() == "after the request"]
    assert getattr(after[0], "request_id", None) is None


def test_json_log_lines_carry_the_id(app):
    """The production format (``ELEARN_LOG_JSON``): a ``request_id`` field while one is current."""
    from pythonjsonlogger.json import JsonFormatter

    from elearn import request_id

    handler = next(h for h in logging.getLogger().handlers if h.filters)
    record = logging.LogRecord("elearn.x", logging.INFO, __file__, 1, "saved", None, None)
    token = request_id.bind("abc-123")
    try:
        handler.filter(record)
    finally:
        request_id.unbind(token)
    assert '"request_id": "abc-123"' in JsonFormatter("%(message)s").format(record)


# --- /metrics ------------------------------------------------------------------------------------


def test_metrics_count_each_endpoints_requests_and_their_time(client):
    before = scrape(client)
    for _ in range(3):
        client.get("/healthz")
    client.get("/no-such-page")
    after = scrape(client)
    ok = {"endpoint": "ops.healthz", "method": "GET", "status": "200"}
    assert (
        value(after, "elearn_http_requests_total", **ok)
        - value(before, "elearn_http_requests_total", **ok)
        == 3
    )
    counted = "elearn_http_request_duration_seconds_count"
    assert (
        value(after, counted, endpoint="ops.healthz")
        - value(before, counted, endpoint="ops.healthz")
        == 3
    )
    lost = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert (
        value(after, "elearn_http_requests_total", **lost)
        - value(before, "elearn_http_requests_total", **lost)
        == 1
    )
    # every metric the dashboards read is there from the start, counted or not
    names = {name for name, _labels in after}
    for family in (
        "elearn_live_sockets",
        "elearn_media_transcodes_in_flight",
        "elearn_exam_saves_total",
        "elearn_exam_starts_total",
    ):
        assert any(n.startswith(family) for n in names), family


def test_metrics_are_refused_to_other_addresses_and_to_proxied_requests(app, client):
    far = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert far.status_code == 403
    assert "ELEARN_METRICS_ALLOW" in far.get_data(as_text=True)
    assert b"elearn_http" not in far.get_data()
    # nginx on the same host passes on somebody else's request from loopback: refused
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert proxied.status_code == 403
    assert client.get("/metrics", headers={"X-Real-IP": "198.51.100.7"}).status_code == 403
    # a network of the operator's
    allowed = app.config["METRICS_ALLOW"]
    app.config["METRICS_ALLOW"] = [*allowed, ipaddress.ip_network("203.0.113.0/24")]
    try:
        far = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
        assert far.status_code == 200
    finally:
        app.config["METRICS_ALLOW"] = allowed


def test_a_metrics_token_lets_a_scraper_in_from_anywhere(app, client):
    app.config["METRICS_TOKEN"] = "scraper-secret-0123456789"
    try:
        far = {"REMOTE_ADDR": "203.0.113.9"}
        right = {"Authorization": "Bearer scraper-secret-0123456789"}
        wrong = {"Authorization": "Bearer scraper-secret-012345678X"}
        assert client.get("/metrics", environ_base=far, headers=right).status_code == 200
        assert client.get("/metrics", environ_base=far, headers=wrong).status_code == 403
        assert client.get("/metrics", environ_base=far).status_code == 403
    finally:
        app.config["METRICS_TOKEN"] = None


def test_queue_lengths_are_read_from_the_broker_at_scrape_time():
    queue = f"test-queue-{os.getpid()}"
    client = redis_lib.Redis.from_url(REDIS_URL)
    try:
        client.rpush(queue, "a", "b", "c")
        client.rpush(queue + "\x06\x166", "d", "e")  # kombu's key for priority 6
        text = metrics.exposition(REDIS_URL, [queue, "empty-" + queue]).decode()
    finally:
        client.delete(queue, queue + "\x06\x166")
        client.close()
    assert f'elearn_celery_queue_length{{queue="{queue}"}} 5.0' in text
    assert f'elearn_celery_queue_length{{queue="empty-{queue}"}} 0.0' in text
    assert "elearn_celery_broker_up 1.0" in text


def test_a_broker_that_does_not_answer_shows_as_down_and_the_scrape_still_answers():
    text = metrics.exposition("redis://127.0.0.1:1/0", ["celery"]).decode()
    assert "elearn_celery_broker_up 0.0" in text
    assert "elearn_celery_queue_length{" not in text
    assert "elearn_http_requests" in text  # the rest of the page is there


def test_the_queues_scraped_are_those_the_app_sends_to(app):
    assert metrics.queues_of(app.config) == ["celery", "media"]


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_a_workers_metrics_port_serves_the_scraper_only(app, host):
    from tests.conftest import free_port

    port = free_port()
    server, thread = metrics.serve_worker_metrics(f"{host}:{port}", app.config, ["celery"])
    try:
        url = f"http://{host}:{port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert b"elearn_task_duration_seconds" in response.read()
        proxied = urllib.request.Request(url, headers={"X-Forwarded-For": "198.51.100.7"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(proxied, timeout=10)
        assert refused.value.code == 403
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


# --- Sentry --------------------------------------------------------------------------------------


def test_without_a_dsn_no_sentry_sdk_is_started(app, client):
    import sentry_sdk

    assert app.config["SENTRY_DSN"] is None
    client.get("/healthz")
    assert not sentry_sdk.get_client().is_active()
