"""What is coming for a person (a live lecture they are in the audience of), asked of the
feature packages through the ``elearn.person_agenda`` extension point: a page about a person
(a guardian's view of their child) lists it without knowing which package scheduled it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from elearn.features import ExtensionPoint, hooks
from elearn.models import User

PERSON_AGENDA = ExtensionPoint(
    "elearn.person_agenda",
    "(person, now) -> [AgendaItem]: what is coming for this person, soonest first",
)


@dataclass(frozen=True)
class AgendaItem:
    #: what it is, translated ("直播讲座")
    kind: str
    title: str
    starts_at: datetime
    #: under way now (a lecture on air)
    is_live: bool = False


def agenda_for(person: User, now: datetime, *, limit: int = 10) -> list[AgendaItem]:
    """What every package says is coming for ``person``, soonest first."""
    items = [item for hook in hooks(PERSON_AGENDA.name) for item in hook(person, now)]
    return sorted(items, key=lambda item: item.starts_at)[:limit]
