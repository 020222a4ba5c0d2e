"""Media pages and the signed URLs: the upload page, local-backend parts and objects, playback.

Playback URLs carry a short-lived token (``service.playback_token``) in their path, so hls.js
resolves the playlists' relative URIs under it; every segment URI is re-signed on each request.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import permissions
from elearn.extensions import csrf, db
from elearn.models import User
from media import live, queries, service
from media.models import Asset, AssetKind, AssetStatus
from media.settings import setting
from media.storage import LocalStorage, StorageError, get_storage
from media.storage.base import attachment

# "/media/static" is ours: Flask's own /static route would shadow a blueprint path under /static
bp = Blueprint(
    "media",
    __name__,
    url_prefix="/media",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

HLS = "application/vnd.apple.mpegurl"


def nav_items(user: User) -> list[tuple[str, str]]:
    """The upload page, for the roles that may upload."""
    if service.upload_limit(user) is None:
        return []
    return [("media.upload_page", _("Upload media"))]


@bp.route("/upload")
@login_required
def upload_page():
    """The teachers' upload page: choose a file, watch the upload and then the processing."""
    limit = service.upload_limit(current_user)
    if limit is None:
        abort(403)
    return render_template(
        "media/upload.html",
        limit_mb=limit // (1024 * 1024),
        recent=[service.asset_json(a) for a in queries.assets_of(current_user, limit=10)],
    )


@bp.route("/assets/<asset_id>")
@login_required
def asset_page(asset_id: str):
    """One upload, as its owner (or an admin above them) sees it: its state and, when ready, the
    video or audio playing, the document's pages or the picture."""
    asset = permissions.get_or_404(Asset, asset_id[:32], current_user, "view")
    ready = asset.status == AssetStatus.READY
    return render_template(
        "media/asset.html",
        asset=asset,
        info=service.asset_json(asset),
        player=service.player_context(asset, current_user)
        if ready and asset.kind in {AssetKind.VIDEO, AssetKind.AUDIO}
        else None,
        document=service.document_context(asset, current_user)
        if ready and asset.kind == AssetKind.DOCUMENT
        else None,
        image_url=service.image_url(asset) if ready else None,
    )


def _local() -> LocalStorage:
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        abort(404)
    return storage


@bp.route("/part/<token>", methods=["PUT"])
@csrf.exempt  # the signed URL is the credential, as with a presigned S3 URL
def local_part(token: str):
    """Receive one part of an upload (local backend only)."""
    storage = _local()
    try:
        payload = storage.unsign(token)
        asset = db.session.get(Asset, payload["k"].split("/")[1])
        if asset is None or asset.upload_id != payload["u"] or asset.source_key != payload["k"]:
            abort(404)
        if asset.status != AssetStatus.UPLOADING or not asset.part_size:
            abort(409)
        part = storage.write_part(
            asset.source_key,
            payload["u"],
            int(payload["n"]),
            iter(lambda: request.stream.read(256 * 1024), b""),
            max_bytes=asset.part_size,
        )
    except StorageError:
        abort(403)
    response = jsonify(number=part.number, size=part.size)
    response.headers["ETag"] = f'"{part.etag}"'
    return response


@bp.route("/o/<token>")
def local_object(token: str):
    """One stored object behind a signed, expiring URL (local backend only)."""
    storage = _local()
    try:
        payload = storage.unsign(token)
        path = storage.open(payload["k"])
    except StorageError:
        abort(403)
    mimetypes = {".ts": "video/mp2t", ".m3u8": HLS, ".jpg": "image/jpeg", ".png": "image/png"}
    mimetype = payload.get("t") or mimetypes.get(path.suffix, "application/octet-stream")
    download = payload.get("d")
    accel = setting("MEDIA_ACCEL_REDIRECT")
    if accel:
        return _accel_redirect(accel, payload["k"], mimetype, download)
    response = send_file(
        path,
        mimetype=mimetype,
        conditional=True,
        as_attachment=bool(download),
        download_name=download or None,
    )
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


def _accel_redirect(prefix: str, key: str, mimetype: str, download: str | None) -> Response:
    """Let nginx send the file (sendfile, ranges): the signature was checked, the worker is free."""
    response = Response(mimetype=mimetype)
    response.headers["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(key)
    if download:
        response.headers["Content-Disposition"] = attachment(download)
    return response


def _playable(token: str) -> tuple[Asset, dict]:
    payload = service.read_playback_token(token)
    if payload is None:
        abort(403)
    asset = db.session.get(Asset, payload["a"])
    if asset is None or not asset.is_ready or not asset.renditions:
        abort(404)
    return asset, payload


def _playlist(text: str | None) -> tuple[str, int, dict[str, str]]:
    if text is None:
        abort(404)
    return text, 200, {"Content-Type": HLS, "Cache-Control": "private, no-store"}


@bp.route("/play/<token>/master.m3u8")
def play_master(token: str):
    """The master playlist of a ready asset (variants resolve under the same token)."""
    asset, _payload = _playable(token)
    try:
        return _playlist(service.master_playlist(asset))
    except StorageError:
        abort(503)


@bp.route("/play/<token>/<name>/index.m3u8")
def play_variant(token: str, name: str):
    """One rendition's playlist, each segment URI freshly signed for a few minutes."""
    asset, _payload = _playable(token)
    try:
        return _playlist(service.signed_variant_playlist(asset, name))
    except StorageError:
        abort(503)


@bp.route("/play/<token>/renew")
@login_required
def play_renew(token: str):
    """A fresh playback token for the same viewer, while they keep watching."""
    grace = int(setting("MEDIA_RENEW_GRACE_MINUTES")) * 60
    payload = service.read_playback_token(token, grace_seconds=grace)
    if payload is None or payload.get("v") != current_user.id:
        abort(404)
    asset = db.session.get(Asset, payload["a"])
    if asset is None or not asset.is_ready:
        abort(404)
    context = service.player_context(asset, current_user)
    return jsonify(
        playlist_url=context["playlist_url"],
        audio_url=context["audio_url"],
        renew_url=context["renew_url"],
    )


@bp.route("/doc/<token>/download")
@login_required
def document_download(token: str):
    """The original PDF or EPUB, to its viewer, through a short-lived signed URL."""
    payload = service.read_playback_token(token)
    if payload is None or payload.get("v") != current_user.id:
        abort(404)
    asset = db.session.get(Asset, payload["a"])
    if asset is None or not asset.is_ready or asset.kind != "document":
        abort(404)
    try:
        return redirect(service.document_download_url(asset))
    except StorageError:
        abort(503)


@bp.route("/doc/<token>/pages")
@login_required
def document_pages(token: str):
    """Fresh signed page-image URLs for a reader whose page was open longer than they last."""
    grace = int(setting("MEDIA_RENEW_GRACE_MINUTES")) * 60
    payload = service.read_playback_token(token, grace_seconds=grace)
    if payload is None or payload.get("v") != current_user.id:
        abort(404)
    asset = db.session.get(Asset, payload["a"])
    if asset is None or not asset.is_ready or asset.kind != "document":
        abort(404)
    context = service.document_context(asset, current_user)
    return jsonify(pages=context["pages"], renew_url=context["renew_url"])


# --- live streams -------------------------------------------------------------------------------


def _streamable(token: str) -> Asset:
    payload = service.read_playback_token(token)
    if payload is None:
        abort(403)
    asset = db.session.get(Asset, payload["a"])
    if asset is None or asset.status not in {AssetStatus.LIVE, AssetStatus.READY}:
        abort(404)
    return asset


def _live_playlist(text: str | None) -> tuple[str, int, dict[str, str]]:
    if text is None:
        abort(404)  # not written yet: players retry
    # a live playlist changes every segment: never from a cache
    return text, 200, {"Content-Type": HLS, "Cache-Control": "no-cache, no-store, max-age=0"}


@bp.route("/live/<token>/master.m3u8")
def live_master(token: str):
    """The master playlist of a live stream (or of its recording once it has ended)."""
    asset = _streamable(token)
    try:
        storage = get_storage()
        if asset.master_key is None or storage.stat(asset.master_key) is None:
            abort(404)
        return _live_playlist(service.master_playlist(asset, storage))
    except StorageError:
        abort(503)


@bp.route("/live/<token>/<name>/index.m3u8")
def live_variant(token: str, name: str):
    """A rendition's live playlist: the newest segments, each URI signed for a few minutes."""
    asset = _streamable(token)
    try:
        return _live_playlist(live.live_variant_playlist(asset, name, get_storage()))
    except StorageError:
        abort(503)


@bp.route("/live/<token>/<name>/<segment>")
def live_segment(token: str, name: str, segment: str):
    """A live segment: the token is checked, then a redirect to a briefly signed storage URL."""
    payload = service.read_playback_token(token)
    if payload is None:
        abort(403)
    try:
        url = live.segment_url(str(payload["a"]), name, segment, get_storage())
    except StorageError:
        abort(503)
    if url is None:
        abort(404)
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
