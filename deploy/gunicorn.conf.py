"""gunicorn for the web process: gevent + websockets.

Socket.IO needs sticky sessions, so a process that serves ``/socket.io/`` runs one worker; scale
out with more processes behind nginx (ip_hash) sharing rooms through the Redis message queue.
A process that serves only pages and the API (nginx routes ``/socket.io/`` elsewhere) needs no
stickiness and runs one worker per core: ``ELEARN_WEB_WORKERS`` (deploy/README.md).

Metrics (``elearn.metrics``): the workers of this process keep their values in files under
``PROMETHEUS_MULTIPROC_DIR``, added up by whichever worker answers ``/metrics``. Unless the
environment names one, each gunicorn process makes its own temporary folder (a folder must never
be shared by two gunicorn processes that both serve ``/metrics``: each would report the other's
requests as its own).
"""

import glob
import os
import shutil
import tempfile
import time

bind = os.environ.get("ELEARN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
worker_class = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
workers = int(os.environ.get("ELEARN_WEB_WORKERS", "1"))
# The default (1,000) hangs the next HTTP request once 1,000 websockets are open.
#: a one-worker process (Socket.IO) holds every websocket of its clients: many. A worker of a
#: multi-worker API process takes at most 2,000, so a burst of new connections spreads over the
#: workers: the kernel hands each to whichever worker wakes first, and in the exam bench one of
#: two workers took 80-90% of 5,000 connections while the other idled (the backlog, 2,048, holds
#: what waits meanwhile; nginx in front holds far more)
worker_connections = int(
    os.environ.get("ELEARN_WORKER_CONNECTIONS", "10000" if workers == 1 else "2000")
)
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = "-"
errorlog = "-"
wsgi_app = "deploy.wsgi:app"

# -- metrics: set before any worker imports prometheus_client (it reads the variable at import) --
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="elearn-metrics-")
_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def _pids_alive(folder):
    """(files of processes still running, files of processes gone) in a metrics folder."""
    alive, gone = [], []
    for path in glob.glob(os.path.join(folder, "*.db")):
        pid = os.path.basename(path).rsplit("_", 1)[-1].removesuffix(".db")
        if pid.isdigit():
            (alive if os.path.exists(f"/proc/{pid}") else gone).append(path)
    return alive, gone


def on_starting(server):  # noqa: ARG001 - gunicorn's hook signature
    """A folder given by the environment may hold a previous run's values: drop those of
    processes no longer running, so this run's counters start from zero. The temporary folders
    of gunicorn processes killed before their ``on_exit`` (SIGKILL) go too, once an hour old."""
    for path in _pids_alive(_metrics_dir)[1]:
        os.remove(path)
    pattern = os.path.join(tempfile.gettempdir(), "elearn-metrics-*")
    for folder in glob.glob(pattern):
        if folder == _metrics_dir or time.time() - os.path.getmtime(folder) < 3600:
            continue
        if not _pids_alive(folder)[0]:
            shutil.rmtree(folder, ignore_errors=True)


def child_exit(server, worker):  # noqa: ARG001
    """A worker gone: its live gauges (sockets held) go with it; its counts stay in the totals."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, _metrics_dir)


def on_exit(server):  # noqa: ARG001
    if _own_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
