"""Entry point: ``flask --app app …``, ``gunicorn app:app`` and ``celery -A app.celery_app``."""

from elearn.factory import create_app

app = create_app()
celery_app = app.extensions["celery"]
