"""The gunicorn entry point (deploy/wsgi.py), loaded as gunicorn loads it: in its own process."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import app_env

REPO = Path(__file__).resolve().parents[2]


def test_the_loaded_app_is_frozen_out_of_full_garbage_collections(database_url):
    probe = (
        "import deploy.wsgi, gc, gevent.monkey\n"
        "assert gevent.monkey.is_module_patched('socket')\n"
        "print(gc.get_freeze_count())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env={**os.environ, **app_env(database_url)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # the app's own objects (models, routes, catalogs) number in the tens of thousands
    assert int(done.stdout.strip().splitlines()[-1]) > 50_000
