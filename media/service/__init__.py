"""Media use cases: uploads, processing state, playback tokens. Flush, never commit.

Other packages import from here; ``uploads``, ``abandoned`` and ``playback`` hold the use cases.
"""

from media.service.abandoned import (
    abandon_if_stale,
    abort_orphan_uploads,
    stale_upload_ids,
)
from media.service.playback import (
    DOCUMENT_TYPES,
    asset_json,
    document_context,
    document_download_url,
    image_url,
    master_playlist,
    playback_token,
    player_context,
    playlist_url,
    read_playback_token,
    rendition_for,
    signed_variant_playlist,
)
from media.service.uploads import (
    LIMITS,
    REASONS,
    abort_upload,
    accept_source,
    asset_rule,
    check_declared,
    complete_upload,
    create_upload,
    fail,
    new_asset,
    reason_text,
    upload_limit,
    upload_plan,
)

__all__ = [
    "DOCUMENT_TYPES",
    "LIMITS",
    "REASONS",
    "abandon_if_stale",
    "abort_orphan_uploads",
    "abort_upload",
    "accept_source",
    "asset_json",
    "asset_rule",
    "check_declared",
    "complete_upload",
    "create_upload",
    "document_context",
    "document_download_url",
    "fail",
    "image_url",
    "master_playlist",
    "new_asset",
    "playback_token",
    "player_context",
    "playlist_url",
    "read_playback_token",
    "reason_text",
    "rendition_for",
    "signed_variant_playlist",
    "stale_upload_ids",
    "upload_limit",
    "upload_plan",
]
