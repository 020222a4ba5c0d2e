"""The gunicorn entry point (deploy/wsgi.py), loaded as gunicorn loads it: in its own process."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import app_env

REPO = Path(__file__).resolve().parents[2]


def test_the_loaded_app_is_configured_warmed_and_frozen_out_of_full_collections(app, database_url):
    """``app``: the test database migrated, so the lanes' statements can run."""
    probe = (
        "import deploy.wsgi, gc, gevent.monkey\n"
        "from sqlalchemy.orm.mapper import _mapper_registries\n"
        "from elearn.extensions import db\n"
        "assert gevent.monkey.is_module_patched('socket')\n"
        "assert not any(r._new_mappers for r in _mapper_registries), 'left to a request'\n"
        "with deploy.wsgi.app.app_context():\n"
        "    print(len(db.engine._compiled_cache))\n"
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
    compiled, frozen = done.stdout.strip().splitlines()[-2:]
    assert int(frozen) > 50_000
    # the exam lanes' statements (quizzes.lanes.warm_up): compiled at load, not in a wave
    assert int(compiled) >= 5, done.stderr[-2000:]
    assert "could not warm up" not in done.stderr
