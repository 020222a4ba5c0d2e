"""What the platform counts for Prometheus, and the pages that show it to the scraper only.

Each process counts what it does, under names every process type shares:
- web and api processes: each request's time and status by Flask endpoint (bounded labels: the
  endpoint, never the path), the signed-in sockets on ``/live`` each holds;
- the exam lanes (``quizzes.lanes``): the saves and starts each batch stored,
  one increment per batch (a lane's request pays nothing for it), and each batch's time;
- Celery workers: each task's duration and final state, and the transcodes in flight;
- at scrape time, read from the broker: the tasks waiting in each Celery queue (Redis ``LLEN``).

Several processes share one port: gunicorn's workers, Celery's pool. prometheus_client's
multiprocess mode keeps each process's values in a file under ``PROMETHEUS_MULTIPROC_DIR`` and the
scrape adds them up, so any worker answering ``/metrics`` reports them all (a dead worker's counts
stay in the totals; its live gauges go, ``deploy/gunicorn.conf.py``'s ``child_exit``). The folder
must be set before ``prometheus_client`` is imported: ``deploy/gunicorn.conf.py`` makes one per
gunicorn process; a Celery worker is given one in its environment and serves its own metrics on
``ELEARN_WORKER_METRICS_BIND`` (``serve_worker_metrics``). Without the folder (tests, the embedded
demo) the values live in the one process.

prometheus_client is used directly rather than prometheus-flask-exporter: most of what matters is
counted outside Flask (the lanes, Celery, Socket.IO), the endpoint label must stay bounded, and
the page needs the access rule below; the exporter would add a dependency for the two Flask hooks.

Nobody but the scraper reads ``/metrics``: it answers only addresses in ``ELEARN_METRICS_ALLOW``
(loopback by default) reached directly, not through a proxy (a request with forwarding headers is
nginx passing on somebody else's), or a caller with ``Authorization: Bearer <ELEARN_METRICS_TOKEN>``.
"""

from __future__ import annotations

import glob
import hmac
import ipaddress
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import redis as redis_lib
from celery import signals
from flask import Blueprint, Flask, Response, current_app, request
from flask_babel import gettext as _
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

#: seconds; a page is fast under 0.1 s, an exam's save under 0.2 s (the bench's target)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
#: seconds; from a notification purge to a 3-hour lecture's ladder
TASK_BUCKETS = (0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 10800.0)

HTTP_DURATION = Histogram(
    "elearn_http_request_duration_seconds",
    "Time to answer a request in Flask, by endpoint (the exam lanes' answers are in "
    "elearn_exam_lane_batch_seconds)",
    ["endpoint"],
    buckets=REQUEST_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "elearn_http_requests",
    "Requests answered by Flask, by endpoint, method and status",
    ["endpoint", "method", "status"],
)
LIVE_SOCKETS = Gauge(
    "elearn_live_sockets",
    "Signed-in sockets on the /live namespace held by this process (its workers added up)",
    multiprocess_mode="livesum",
)
EXAM_SAVES = Counter(
    "elearn_exam_saves",
    "Exam answers saved: via=lane (group-committed in front of Flask) or app (the Flask route)",
    ["via"],
)
EXAM_STARTS = Counter(
    "elearn_exam_starts",
    "Exam attempts started (or resumed): via=lane or app, as elearn_exam_saves",
    ["via"],
)
EXAM_LANE_BATCH = Histogram(
    "elearn_exam_lane_batch_seconds",
    "Time of one group commit of an exam lane (what each save or start in it waited for)",
    ["lane"],
    buckets=REQUEST_BUCKETS,
)
TASK_DURATION = Histogram(
    "elearn_task_duration_seconds",
    "Time a Celery task ran, by task and final state",
    ["task", "state"],
    buckets=TASK_BUCKETS,
)
TRANSCODES_IN_FLIGHT = Gauge(
    "elearn_media_transcodes_in_flight",
    "Uploaded media being probed and transcoded right now",
    multiprocess_mode="livesum",
)

#: endpoint → (status, counter): successful answers of a Flask route that a feature counts
_COUNTED: dict[str, tuple[int, Any]] = {}


def count_answers(endpoint: str, status: int, counter: Any) -> None:
    """Increment ``counter`` (a labelled child) for each ``status`` answer of ``endpoint``."""
    _COUNTED[endpoint] = (status, counter)


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    """One request answered by Flask (``elearn.observability``'s middleware)."""
    HTTP_DURATION.labels(endpoint).observe(seconds)
    HTTP_REQUESTS.labels(endpoint, method, str(status)).inc()
    counted = _COUNTED.get(endpoint)
    if counted is not None and counted[0] == status:
        counted[1].inc()


# -- Celery: task durations, the worker's own metrics port ---------------------------------------

_task_started: dict[str, float] = {}


def _on_task_prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id is not None:
        _task_started[task_id] = time.perf_counter()


def _on_task_postrun(
    task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any
) -> None:
    started = _task_started.pop(task_id, None) if task_id is not None else None
    if started is not None:
        name = getattr(task, "name", None) or "unknown"
        TASK_DURATION.labels(name, state or "UNKNOWN").observe(time.perf_counter() - started)


def connect_celery(app: Flask) -> None:
    """Time every task; serve a worker's metrics on ``WORKER_METRICS_BIND`` (idempotent)."""
    signals.task_prerun.connect(_on_task_prerun, weak=False, dispatch_uid="elearn-metrics-pre")
    signals.task_postrun.connect(_on_task_postrun, weak=False, dispatch_uid="elearn-metrics-post")
    config = app.config

    def _on_worker_init(**_: Any) -> None:
        bind = config.get("WORKER_METRICS_BIND")
        if bind:
            serve_worker_metrics(bind, config, queues_of(config))

    def _on_child_exit(pid: int | None = None, **_: Any) -> None:
        folder = multiprocess_dir()
        if folder:
            multiprocess.mark_process_dead(pid or os.getpid(), folder)

    signals.worker_init.connect(_on_worker_init, weak=False, dispatch_uid="elearn-metrics-init")
    signals.worker_process_shutdown.connect(
        _on_child_exit, weak=False, dispatch_uid="elearn-metrics-child-exit"
    )


def serve_worker_metrics(
    bind: str, config: Mapping[str, Any], queues: list[str]
) -> tuple[WSGIServer, threading.Thread]:
    """A Celery worker's metrics (its pool's, added up) on ``host:port``, in a thread."""
    folder = multiprocess_dir()
    if folder:
        remove_dead_files(folder)
    else:
        log.warning(
            "PROMETHEUS_MULTIPROC_DIR is not set: the metrics of a prefork pool's processes "
            "are not seen by the worker's metrics port (deploy/README.md, Observability)"
        )
    host, _sep, port = bind.rpartition(":")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found: the metrics are at /metrics\n"]
        if not may_scrape(environ.get("REMOTE_ADDR"), environ, config):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [REFUSAL.encode()]
        body = exposition(config.get("CELERY", {}).get("broker_url"), queues)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_PLAIN_0_0_4)])
        return [body]

    host = host.strip("[]") or "0.0.0.0"
    server_class = _IPv6Server if ":" in host else WSGIServer
    server = make_server(host, int(port), app, server_class=server_class, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name="elearn-metrics", daemon=True)
    thread.start()
    log.info("worker metrics at http://%s/metrics", bind)
    return server, thread


class _IPv6Server(WSGIServer):
    address_family = socket.AF_INET6


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


# -- the page -------------------------------------------------------------------------------------

#: the worker port's refusal (the app's is translated)
REFUSAL = (
    "Metrics are served only to the addresses in ELEARN_METRICS_ALLOW reached directly, "
    "or with Authorization: Bearer <ELEARN_METRICS_TOKEN>.\n"
)
#: a request that came through a proxy carries one of these: it is somebody else's
_FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def may_scrape(remote: str | None, environ: Mapping[str, Any], config: Mapping[str, Any]) -> bool:
    token = config.get("METRICS_TOKEN")
    if token:
        sent = environ.get("HTTP_AUTHORIZATION", "")
        if sent.startswith("Bearer ") and hmac.compare_digest(
            sent[7:].strip().encode(), token.encode()
        ):
            return True
    if not remote or any(environ.get(name) for name in _FORWARDED):
        return False
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return any(address in network for network in config.get("METRICS_ALLOW", ()))


bp = Blueprint("metrics", __name__)


@bp.route("/metrics")
def scrape() -> Response:
    """Prometheus' text format, for the scraper only (see the module's docstring)."""
    if not may_scrape(request.remote_addr, request.environ, current_app.config):
        return Response(
            _(
                "Metrics are served only to the addresses in ELEARN_METRICS_ALLOW reached "
                "directly, or with the header Authorization: Bearer and ELEARN_METRICS_TOKEN."
            )
            + "\n",
            status=403,
            mimetype="text/plain",
        )
    body = exposition(current_app.config["CELERY"].get("broker_url"), queues_of(current_app.config))
    return Response(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition(broker_url: str | None, queues: list[str]) -> bytes:
    """Every value of this process group, and the queues' lengths read now, in Prometheus'
    classic text format (0.0.4: what every Prometheus reads; two registries' pages join)."""
    queue_registry = CollectorRegistry()
    queue_registry.register(QueueLengths(broker_url, queues))
    folder = multiprocess_dir()
    if folder:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=folder)
        return generate_latest(registry) + generate_latest(queue_registry)
    return generate_latest(REGISTRY) + generate_latest(queue_registry)


def queues_of(config: Mapping[str, Any]) -> list[str]:
    """The Celery queues the app sends to: the default one and those its routes name."""
    celery = config.get("CELERY", {})
    names = {celery.get("task_default_queue") or "celery"}
    for route in (celery.get("task_routes") or {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    return sorted(names)


#: kombu's Redis transport keeps a queue's priorities 3, 6 and 9 in keys of their own
_PRIORITY_KEYS = ("", "\x06\x163", "\x06\x166", "\x06\x169")


class QueueLengths(Collector):
    """``elearn_celery_queue_length{queue}`` from the Redis broker at scrape time, and
    ``elearn_celery_broker_up`` (0 when the broker did not answer within two seconds)."""

    def __init__(self, broker_url: str | None, queues: list[str]) -> None:
        self.broker_url = broker_url
        self.queues = queues

    def collect(self) -> Iterable[GaugeMetricFamily]:
        if not self.broker_url or not self.broker_url.startswith(("redis://", "rediss://")):
            return  # the embedded demo's broker keeps no queue Redis could count
        up = GaugeMetricFamily(
            "elearn_celery_broker_up", "1 when the Celery broker answered the scrape's LLEN"
        )
        lengths = GaugeMetricFamily(
            "elearn_celery_queue_length", "Tasks waiting in each Celery queue", labels=["queue"]
        )
        try:
            client = redis_lib.Redis.from_url(
                self.broker_url, socket_timeout=2, socket_connect_timeout=2
            )
            try:
                pipe = client.pipeline(transaction=False)
                for queue in self.queues:
                    for suffix in _PRIORITY_KEYS:
                        pipe.llen(queue + suffix)
                counts = pipe.execute()
            finally:
                client.close()
        except redis_lib.RedisError as error:
            log.warning("metrics: the broker did not answer: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        step = len(_PRIORITY_KEYS)
        for index, queue in enumerate(self.queues):
            lengths.add_metric([queue], sum(counts[index * step : (index + 1) * step]))
        yield up
        yield lengths


def remove_dead_files(folder: str) -> int:
    """Drop the value files of processes no longer running (a previous run's): at a process
    group's start, before its own files exist, so its counters start from zero."""
    removed = 0
    for path in glob.glob(os.path.join(folder, "*.db")):
        pid = os.path.basename(path).rsplit("_", 1)[-1].removesuffix(".db")
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            os.remove(path)
            removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
