"""The role × route access matrix, generated from ``app.url_map``.

Every endpoint must have a rule, here (carrier) or in ``tests/<package>/access_rules.py``
(``RULES = {endpoint: Rule(...)}``); a route without one fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ROLES = [
    "anonymous",
    "pref_admin",
    "county_admin",
    "school_admin",
    "teacher1",
    "student1",
    "parent1",
    "expert1",
]
ADMINS = frozenset({"pref_admin", "county_admin", "school_admin"})
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
EVERYONE = frozenset(ROLES)


@dataclass(frozen=True)
class Rule:
    """Who may use an endpoint; ``url`` builds the path from the demo ids (see ``demo_ids``)."""

    url: Callable[[dict], str]
    allow: frozenset[str]
    method: str = "GET"
    data: Callable[[dict], dict] = field(default=lambda ids: {})
    #: endpoints whose use by an allowed role may still be refused for the data sent (400/409/422)
    json: bool = False
