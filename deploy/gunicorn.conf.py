"""gunicorn for the web process: gevent + websockets.

Socket.IO needs sticky sessions, so a process that serves ``/socket.io/`` runs one worker; scale
out with more processes behind nginx (ip_hash) sharing rooms through the Redis message queue.
A process that serves only pages and the API (nginx routes ``/socket.io/`` elsewhere) needs no
stickiness and runs one worker per core: ``ELEARN_WEB_WORKERS`` (deploy/README.md).
"""

import os

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
