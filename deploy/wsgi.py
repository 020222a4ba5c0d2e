"""The web process under gunicorn + gevent: patch the standard library before anything else.

psycopg 3 waits on its sockets through the (patched) selectors module, so it yields to gevent
without a separate green adapter.
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402

os.environ.setdefault("ELEARN_ASYNC_MODE", "gevent")

from app import app  # noqa: E402

__all__ = ["app"]
