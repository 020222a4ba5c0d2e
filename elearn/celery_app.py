"""Celery bound to the Flask app (the pattern of Flask's examples/celery)."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

from elearn import observability, uow


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        """A task is one unit of work (``elearn.uow``): committed when it returns, then its
        queued effects run; rolled back when it raises. A task whose steps must be seen before
        it ends (a lease) runs each step in its own ``uow.unit()``."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context(), uow.unit():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    observability.connect_celery(app)  # request ids through tasks, task metrics, log lines
    return celery_app
