"""Documents: a PDF's page count, cover and first pages as images (pdftoppm), an EPUB's spine
length and cover."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from media.containers import MediaRejected, Sniffed, read_epub, sniff
from media.transcode.ladder import build_image_argv
from media.transcode.probing import probe, validate
from media.transcode.runner import Limits, Outputs, output_files, run_ffmpeg, run_simple


def build_pdf_cover_argv(pdf_path: str, out_base: str) -> list[str]:
    """pdftoppm rendering page 1 to ``out_base``.jpg, at most 1024 px on its long side (pure)."""
    return ["pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-scale-to", "1024", "-jpeg",
            pdf_path, out_base]  # fmt: skip


def build_pdf_pages_argv(pdf_path: str, out_base: str, last_page: int, side: int) -> list[str]:
    """pdftoppm rendering pages 1..``last_page`` as JPEGs, ``side`` px on the long side (pure)."""
    return ["pdftoppm", "-f", "1", "-l", str(last_page), "-scale-to", str(side), "-jpeg",
            "-jpegopt", "quality=72,progressive=y", pdf_path, out_base]  # fmt: skip


def pdf_page_count(path: Path) -> int:
    """Pages in a PDF (pypdf, no rendering)."""
    try:
        count = len(PdfReader(str(path), strict=False).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError,
            OSError, IndexError, AssertionError, ZeroDivisionError) as error:  # fmt: skip
        raise MediaRejected("corrupt_document") from error
    if count <= 0:
        raise MediaRejected("corrupt_document")
    return count


PAGE_NAME = "pages/{:03d}.jpg"


def render_pdf_pages(src: Path, out_dir: Path, page_count: int, limits: Limits,
                     ) -> list[tuple[int, int]]:  # fmt: skip
    """Render the first pages as ``pages/001.jpg``…; the (width, height) of each that made it.

    pdftoppm runs under the same rlimits and a timeout; a document it cannot render keeps its
    cover and download only.
    """
    last = min(page_count, limits.max_document_pages)
    if last <= 0:
        return []
    work = out_dir.parent / "pdf-pages"
    work.mkdir(exist_ok=True)
    argv = build_pdf_pages_argv(str(src), str(work / "p"), last, limits.page_image_side)
    with contextlib.suppress(MediaRejected):  # too slow: keep the pages written so far
        run_simple(argv, None, limits, limits.probe_timeout * 2 + 2 * last)
    # pdftoppm pads the page number to the width of the document's page count: sort by value
    numbered = sorted(
        (int(path.stem.rsplit("-", 1)[1]), path)
        for path in work.glob("p-*.jpg")
        if path.stem.rsplit("-", 1)[1].isdigit() and path.stat().st_size > 0
    )
    (out_dir / "pages").mkdir(exist_ok=True)
    sizes: list[tuple[int, int]] = []
    for expected, (number, path) in enumerate(numbered, start=1):
        size = jpeg_size(path)
        if number != expected or size is None:
            break  # a gap or a broken file: stop at the last good page in sequence
        os.replace(path, out_dir / PAGE_NAME.format(number))
        sizes.append(size)
    shutil.rmtree(work, ignore_errors=True)
    return sizes


def jpeg_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, or None if it has none (pure reading)."""
    data = path.read_bytes()[:65536]
    if data[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):  # baseline, extended, progressive frames
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return (width, height) if width and height else None
        at += 2 + length
    return None


def process_document(src: Path, sniffed: Sniffed, out_dir: Path, limits: Limits) -> Outputs:
    """PDF: page count and a cover image; EPUB: spine length and its cover, if any."""
    outputs = Outputs(kind="document")
    if sniffed.fmt == "pdf":
        outputs.page_count = pdf_page_count(src)
        if shutil.which("pdftoppm") is None:  # scripts/system-deps.sh installs poppler-utils
            outputs.files = output_files(out_dir)
            return outputs
        result = run_simple(build_pdf_cover_argv(str(src), str(out_dir / "cover")), None,
                             limits, limits.probe_timeout)  # fmt: skip
        if result.returncode == 0 and (out_dir / "cover.jpg").is_file():
            outputs.poster = "cover.jpg"
        sizes = render_pdf_pages(src, out_dir, outputs.page_count, limits)
        if sizes:
            outputs.meta["pages"] = {"rendered": len(sizes), "sizes": [list(s) for s in sizes]}
    else:
        epub = read_epub(src)
        outputs.page_count = epub.spine_items
        outputs.meta["page_count_estimated"] = True
        if epub.cover:
            cover_src = out_dir.parent / "epub-cover"
            cover_src.write_bytes(epub.cover)
            found = sniff(epub.cover[:1024])
            if found is not None and found.kind == "image" and found.demuxer:
                try:
                    info = probe(cover_src, found.demuxer, limits)
                    validate(info, found, limits)
                    run_ffmpeg(build_image_argv(found.demuxer, str(out_dir / "cover.jpg"), 1024),
                               cover_src, duration=1, out_dir=out_dir, limits=limits)  # fmt: skip
                    outputs.poster = "cover.jpg"
                except MediaRejected:
                    outputs.poster = None  # a bad cover doesn't spoil the book
    outputs.files = output_files(out_dir)
    return outputs
