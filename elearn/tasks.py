"""The carrier's Celery tasks: ids in, load, call the service, commit; idempotent."""
