"""Reading untrusted files without running anything: magic-byte sniffing, MP4 box surgery, EPUB.

Everything here is pure Python on bytes and temp files; nothing here opens a URL or a path named
inside the file.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

#: how many leading bytes ``sniff`` needs
SNIFF_BYTES = 1024


class MediaRejected(Exception):
    """The file is refused for good; ``code`` is a stable reason code shown translated."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Sniffed:
    """What the magic bytes say: our format name, ffmpeg's demuxer for it, and the asset kind."""

    fmt: str
    demuxer: str | None
    kind: str  # video|audio|image|document; video containers may turn out to hold audio only


#: the only inputs accepted, keyed by our format name
FORMATS: dict[str, Sniffed] = {
    "mp4": Sniffed("mp4", "mov", "video"),
    "webm": Sniffed("webm", "matroska", "video"),
    "mpegts": Sniffed("mpegts", "mpegts", "video"),
    "mp3": Sniffed("mp3", "mp3", "audio"),
    "aac": Sniffed("aac", "aac", "audio"),
    "wav": Sniffed("wav", "wav", "audio"),
    "ogg": Sniffed("ogg", "ogg", "audio"),
    "flac": Sniffed("flac", "flac", "audio"),
    "png": Sniffed("png", "png_pipe", "image"),
    "jpeg": Sniffed("jpeg", "jpeg_pipe", "image"),
    "webp": Sniffed("webp", "webp_pipe", "image"),
    "pdf": Sniffed("pdf", None, "document"),
    "epub": Sniffed("epub", None, "document"),
}

#: declared content types accepted at upload time (the bytes decide later)
ACCEPTED_TYPES: dict[str, str] = {
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/webm": "video",
    "video/x-matroska": "video",
    "video/mp2t": "video",
    "audio/mpeg": "audio",
    "audio/mp3": "audio",
    "audio/mp4": "audio",
    "audio/x-m4a": "audio",
    "audio/aac": "audio",
    "audio/wav": "audio",
    "audio/x-wav": "audio",
    "audio/wave": "audio",
    "audio/ogg": "audio",
    "audio/webm": "audio",
    "audio/flac": "audio",
    "image/png": "image",
    "image/jpeg": "image",
    "image/webp": "image",
    "application/pdf": "document",
    "application/epub+zip": "document",
}

_MP4_TOP_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"}


def sniff(head: bytes) -> Sniffed | None:
    """The format of a file from its first bytes, or None when it is not one we accept."""
    if len(head) >= 12 and head[4:8] in _MP4_TOP_BOXES:
        return FORMATS["mp4"]
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return FORMATS["webm"]
    if len(head) >= 377 and head[0] == 0x47 and head[188] == 0x47 and head[376] == 0x47:
        return FORMATS["mpegts"]
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        return FORMATS["mp3"]
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return FORMATS["aac"]
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return FORMATS["wav"]
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return FORMATS["webp"]
    if head.startswith(b"OggS"):
        return FORMATS["ogg"]
    if head.startswith(b"fLaC"):
        return FORMATS["flac"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FORMATS["png"]
    if head.startswith(b"\xff\xd8\xff"):
        return FORMATS["jpeg"]
    if head.startswith(b"%PDF-"):
        return FORMATS["pdf"]
    # EPUB (OCF): a zip whose first entry is an uncompressed "mimetype" naming the type
    if (
        head.startswith(b"PK\x03\x04")
        and head[30:38] == b"mimetype"
        and b"application/epub+zip" in head[38:100]
    ):
        return FORMATS["epub"]
    return None


def sniff_file(path: Path) -> Sniffed:
    """Sniff a file on disk; MediaRejected when empty or not an accepted format."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        raise MediaRejected("empty_file")
    found = sniff(head)
    if found is None:
        raise MediaRejected("unsupported_format")
    return found


# --- MP4: move the index (moov) before the media data, so a pipe can read it -----------------


def _boxes(data: bytes | bytearray, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """(type, box start, payload start, box end) of the boxes in ``data[start:end]``."""
    boxes = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise MediaRejected("corrupt_media")
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise MediaRejected("corrupt_media")
        boxes.append((kind, pos, pos + header, pos + size))
        pos += size
    return boxes


def _top_level_boxes(path: Path) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of a file's top-level boxes, read header by header."""
    total = path.stat().st_size
    result = []
    with path.open("rb") as handle:
        pos = 0
        while pos + 8 <= total:
            handle.seek(pos)
            header = handle.read(16)
            size, kind = struct.unpack(">I4s", header[:8])
            if size == 1:
                size = struct.unpack(">Q", header[8:16])[0]
            elif size == 0:
                size = total - pos
            if size < 8 or pos + size > total:
                raise MediaRejected("corrupt_media")
            result.append((kind, pos, pos + size))
            pos += size
    return result


_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _shift_chunk_offsets(
    moov: bytearray, start: int, end: int, low: int, high: int, shift: int
) -> None:
    for kind, _box, payload, box_end in _boxes(moov, start, end):
        if kind in _CONTAINERS:
            _shift_chunk_offsets(moov, payload, box_end, low, high, shift)
        elif kind in {b"stco", b"co64"}:
            count = struct.unpack(">I", moov[payload + 4 : payload + 8])[0]
            width = 4 if kind == b"stco" else 8
            if payload + 8 + count * width > box_end:
                raise MediaRejected("corrupt_media")
            fmt = ">I" if width == 4 else ">Q"
            for i in range(count):
                at = payload + 8 + i * width
                value = struct.unpack(fmt, moov[at : at + width])[0]
                if low <= value < high:
                    value += shift
                    if width == 4 and value >= 2**32:
                        raise MediaRejected("unsupported_format")
                    moov[at : at + width] = struct.pack(fmt, value)


def mp4_faststart(src: Path, dst: Path) -> bool:
    """Write ``src`` to ``dst`` with its moov box ahead of the media data; False if already so.

    ffmpeg reads uploads from a pipe, which cannot seek to an index at the end of the file.
    """
    boxes = _top_level_boxes(src)
    kinds = [kind for kind, _s, _e in boxes]
    if kinds.count(b"moov") != 1:
        raise MediaRejected("corrupt_media")
    moov_index = kinds.index(b"moov")
    mdat_indexes = [i for i, kind in enumerate(kinds) if kind == b"mdat"]
    if not mdat_indexes or mdat_indexes[0] > moov_index:
        return False
    first_mdat = mdat_indexes[0]
    _kind, moov_start, moov_end = boxes[moov_index]
    if moov_end - moov_start > 64 * 1024 * 1024:
        raise MediaRejected("limit_exceeded", what="index")
    with src.open("rb") as handle:
        handle.seek(moov_start)
        moov = bytearray(handle.read(moov_end - moov_start))
    if any(kind == b"cmov" for kind, *_ in _boxes(moov, 8, len(moov))):
        raise MediaRejected("unsupported_format")
    moved_from = boxes[first_mdat][1]
    _shift_chunk_offsets(moov, 8, len(moov), moved_from, moov_start, len(moov))
    order = list(range(len(boxes)))
    order.remove(moov_index)
    with src.open("rb") as source, dst.open("wb") as out:
        for i in order:
            if i == first_mdat:
                out.write(moov)
            _kind, start, end = boxes[i]
            source.seek(start)
            _copy_range(source, out, end - start)
    return True


def _copy_range(source: IO[bytes], out: IO[bytes], length: int) -> None:
    while length > 0:
        chunk = source.read(min(length, 1024 * 1024))
        if not chunk:
            raise MediaRejected("corrupt_media")
        out.write(chunk)
        length -= len(chunk)


# --- EPUB -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpubInfo:
    spine_items: int
    cover: bytes | None


_OCF = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"


def _read_capped(archive: zipfile.ZipFile, name: str, cap: int) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError as error:
        raise MediaRejected("corrupt_document") from error
    if info.file_size > cap:
        raise MediaRejected("archive_bomb")
    with archive.open(info) as handle:
        data = handle.read(cap + 1)  # never trust the declared size alone
    if len(data) > cap:
        raise MediaRejected("archive_bomb")
    return data


def _parse_xml(data: bytes) -> ET.Element:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise MediaRejected("corrupt_document")  # entity expansion is never needed in an OPF
    try:
        return ET.fromstring(data)
    except ET.ParseError as error:
        raise MediaRejected("corrupt_document") from error


def read_epub(
    path: Path, *, max_entries: int = 5000, max_total: int = 500 * 1024 * 1024
) -> EpubInfo:
    """Spine length and cover image bytes of an EPUB, with caps against zip bombs."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise MediaRejected("corrupt_document") from error
    with archive:
        entries = archive.infolist()
        if len(entries) > max_entries:
            raise MediaRejected("archive_bomb")
        if sum(info.file_size for info in entries) > max_total:
            raise MediaRejected("archive_bomb")
        for info in entries:
            if info.compress_size and info.file_size / info.compress_size > 200:
                raise MediaRejected("archive_bomb")
        try:
            container = _parse_xml(_read_capped(archive, "META-INF/container.xml", 64 * 1024))
            rootfile = container.find(f".//{_OCF}rootfile")
            if rootfile is None or not rootfile.get("full-path"):
                raise MediaRejected("corrupt_document")
            opf_path = PurePosixPath(rootfile.get("full-path", ""))
            opf = _parse_xml(_read_capped(archive, str(opf_path), 4 * 1024 * 1024))
            spine = opf.findall(f".//{_OPF}spine/{_OPF}itemref")
            cover = _epub_cover(archive, opf, opf_path)
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as error:
            raise MediaRejected("corrupt_document") from error
    if not spine:
        raise MediaRejected("corrupt_document")
    return EpubInfo(spine_items=len(spine), cover=cover)


def _epub_cover(archive: zipfile.ZipFile, opf: ET.Element, opf_path: PurePosixPath) -> bytes | None:
    items = opf.findall(f".//{_OPF}manifest/{_OPF}item")
    href = None
    for item in items:
        if "cover-image" in (item.get("properties") or "").split():
            href = item.get("href")
    if href is None:
        meta = opf.find(f".//{_OPF}metadata/{_OPF}meta[@name='cover']")
        cover_id = meta.get("content") if meta is not None else None
        for item in items:
            if cover_id and item.get("id") == cover_id:
                href = item.get("href")
    if not href or "://" in href or href.startswith("/"):
        return None
    name = str(opf_path.parent / href) if str(opf_path.parent) != "." else href
    if ".." in PurePosixPath(name).parts:
        return None
    try:
        return _read_capped(archive, name, 20 * 1024 * 1024)
    except MediaRejected as rejected:
        if rejected.code == "archive_bomb":
            raise
        return None
