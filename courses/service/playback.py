"""Playback of a lesson's media through the media package, after courses' own permission check.

The route has already decided the viewer may see this revision; here we only ask media for the
context of its player partial (``media/_player.html``): a short-lived signed playlist URL.
"""

from __future__ import annotations

from typing import Any

from courses.models import LessonKind, LessonRevision
from elearn.models import User
from media import service as media_service


def player(revision: LessonRevision, viewer: User) -> dict[str, Any] | None:
    """The player context for a playable audio or video lesson, or None."""
    asset = revision.asset
    if asset is None or not asset.is_ready:
        return None
    if revision.kind not in {LessonKind.VIDEO, LessonKind.AUDIO}:
        return None
    return media_service.player_context(asset, viewer)


def document(revision: LessonRevision, viewer: User) -> dict[str, Any] | None:
    """The document viewer context for a ready PDF or EPUB lesson, or None."""
    asset = revision.asset
    if revision.kind != LessonKind.DOCUMENT or asset is None or not asset.is_ready:
        return None
    return media_service.document_context(asset, viewer)
