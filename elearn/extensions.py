"""Unbound extensions; each is bound to the app in ``elearn.factory.create_app``."""

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

F = TypeVar("F", bound=Callable[..., Any])

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
#: Redis in production (any process sees what another counted), in memory for the embedded demo
cache = Cache()
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
#: checks only the views marked with ``rate_limit``: checking every request (the default) cost
#: 95 of a /healthz request's 316 µs of CPU, for the two sign-in views that have limits
limiter = Limiter(key_func=get_remote_address, default_limits=[], auto_check=False)
socketio = SocketIO()

if TYPE_CHECKING:  # mypy can't see through Flask-SQLAlchemy's generated model class
    Model = Base
else:
    Model = db.Model


def rate_limit(value: Callable[[], str] | str, **options: Any) -> Callable[[F], F]:
    """``limiter.limit`` for one view, checked when the view is called (see ``limiter``)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            limiter.check()
            return view(*args, **kwargs)

        return cast(F, limiter.limit(value, **options)(checked))

    return decorate
