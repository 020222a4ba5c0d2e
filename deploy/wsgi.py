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
from quizzes.save_lane import warm_up  # noqa: E402

configure_mappers()  # at load, not in the first request that needs them (~0.4 s)
warm_up(app)  # the exam lanes' statements compiled now (~0.1 s each), not in an exam's first wave
gc.collect()
gc.freeze()

__all__ = ["app"]
