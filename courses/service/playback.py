"""Playback of a lesson's media through the media package, after courses' own permission check.

The route has already decided the viewer may see this revision; here we only ask media for what
its player partial (``media/_player.html``) needs.
"""

from __future__ import annotations

from typing import Any

from courses.models import LessonRevision
from elearn.models import User


def player(revision: LessonRevision, viewer: User) -> dict[str, Any] | None:
    """The player partial's template and context for a playable media lesson, or None."""
    asset = revision.asset
    if asset is None or not asset.is_ready:
        return None
    return None
