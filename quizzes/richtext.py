"""The one place question HTML is cleaned before it reaches a browser (nh3, an allow-list)."""

from __future__ import annotations

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
    """Stem or option HTML made safe to put into a page as markup."""
    return nh3.clean(
        text or "",
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "data"},
        link_rel="noopener noreferrer",
    )


def plain(text: str) -> str:
    """The text of some HTML, without tags (for spreadsheets, titles and matching)."""
    return html.unescape(_TAG_RE.sub("", text or "")).strip()
