"""The network classroom's pages, on one blueprint (``blueprint``): learners' pages (``learning``),
authoring (``authoring``, ``structure``) and review (``review``)."""

from __future__ import annotations

from courses.routes import authoring, learning, review, structure
from courses.routes.blueprint import bp, course_label, home_panel, nav_items

#: the page modules, each adding its views to ``bp`` when imported
PAGES = (learning, authoring, structure, review)

__all__ = ["PAGES", "bp", "course_label", "home_panel", "nav_items"]
