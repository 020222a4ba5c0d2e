"""Assessment pages (blueprint ``quizzes``): taking quizzes, question banks, building and managing
quizzes, results. Dispatch's pages are ``quizzes.dispatch.routes``."""

from quizzes.routes import authoring, banks, results, taking  # noqa: F401 - their pages join bp
from quizzes.routes.blueprint import bp, home_panel, nav_items

__all__ = ["bp", "home_panel", "nav_items"]
