"""The one place question HTML is cleaned before it reaches a browser (nh3, an allow-list)."""

from __future__ import annotations

import functools
import html
import re

import nh3

_TAGS = {
    "a", "abbr", "b", "br", "code", "div", "em", "i", "img", "audio", "source", "li", "ol",
    "p", "pre", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr",
    "u", "ul", "ruby", "rt", "h3", "h4", "blockquote",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "audio": {"src", "controls"},
    "source": {"src", "type"},
    "*": {"lang", "dir"},
}
_TAG_RE = re.compile(r"<[^>]+>")


def clean(text: str) -> str:
    """Stem or option HTML made safe to put into a page as markup.

    A pure function of the text, so short texts are cached: every attempt's start and resume
    cleans the same stems and options (5,000 students × 10 questions of one exam).
    """
    text = text or ""
    return _clean_cached(text) if len(text) <= 2048 else _clean(text)


def _clean(text: str) -> str:
    return nh3.clean(
        text,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "data"},
        link_rel="noopener noreferrer",
    )


_clean_cached = functools.lru_cache(maxsize=4096)(_clean)


def plain(text: str) -> str:
    """The text of some HTML, without tags (for spreadsheets, titles and matching)."""
    return html.unescape(_TAG_RE.sub("", text or "")).strip()
