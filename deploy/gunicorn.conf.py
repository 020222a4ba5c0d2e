"""gunicorn for the web process: gevent + websockets, one worker per process.

Socket.IO needs sticky sessions, so each process runs one worker; scale out with more processes
behind nginx (ip_hash) sharing rooms through the Redis message queue.
"""

import os

bind = os.environ.get("ELEARN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
worker_class = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
workers = 1
# The default (1,000) hangs the next HTTP request once 1,000 websockets are open.
worker_connections = int(os.environ.get("ELEARN_WORKER_CONNECTIONS", "10000"))
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = "-"
errorlog = "-"
wsgi_app = "deploy.wsgi:app"
