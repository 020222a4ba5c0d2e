"""The web process under gunicorn + gevent: patch the standard library before anything else.

psycopg 3 waits on its sockets through the (patched) selectors module, so it yields to gevent
without a separate green adapter.

Once the app is loaded and its mappers configured, everything it built (models, mappers, catalogs,
routes: ~200,000 objects) lives as long as the process, so it is frozen out of the garbage
collector: otherwise each full collection walks it all and, in this one-worker process, pauses
every request in flight (~0.2 s).
"""

from gevent import monkey

monkey.patch_all()

import gc  # noqa: E402
import os  # noqa: E402

os.environ.setdefault("ELEARN_ASYNC_MODE", "gevent")

from sqlalchemy.orm import configure_mappers  # noqa: E402

from app import app  # noqa: E402
from quizzes.lanes import warm_up  # noqa: E402

configure_mappers()  # at load, not in the first request that needs them (~0.4 s)
warm_up(app)  # the exam lanes' statements compiled now (~0.1 s each), not in an exam's first wave

if app.config["PROXY_HOPS"]:
    from werkzeug.middleware.proxy_fix import ProxyFix  # noqa: E402

    # outermost, after the lanes were warmed (warm_up walks the lanes from app.wsgi_app).
    # Behind nginx every request comes from nginx's address: the sign-in limits per address
    # and the sessions' addresses need the client's, which nginx appends to X-Forwarded-For
    # (only the last PROXY_HOPS entries are believed: a client can write the ones before)
    hops = app.config["PROXY_HOPS"]
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]  # WSGI middleware wraps the app, as Flask's docs do it

gc.collect()
gc.freeze()

__all__ = ["app"]
