"""The keyword hold: a message that matches its prefecture's keyword list waits for a reviewer
(a school admin over the conversation) instead of reaching anyone but its sender.

A prefecture keeps its own list (``MessageKeyword``); one without entries uses ``DEFAULT_WORDS``
and ``DEFAULT_PATTERNS``: drug slang, offers to sell, and contact exchange (a WeChat or QQ id, a
mobile number), the ways a stranger moves a child off the platform. Words are matched after
folding case and width (ＶＸ is vx) and dropping spaces and punctuation, so 冰 毒 and 冰-毒 are 冰毒;
patterns are regular expressions on the folded text. The hold is a review, not a verdict: a
reviewer delivers what was held wrongly.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex
from flask_babel import gettext as _
from sqlalchemy import delete, select

from elearn.extensions import db
from elearn.models import Role, Unit, User
from elearn.service import audit
from elearn.service.errors import Forbidden, ServiceError
from parents.interaction.models import MessageKeyword

#: drug names and slang (毒品及其黑话), and words of a sale
DEFAULT_WORDS: tuple[str, ...] = (
    "冰毒",
    "溜冰",
    "麻古",
    "k粉",
    "摇头丸",
    "海洛因",
    "白粉",
    "大麻",
    "飞叶子",
    "神仙水",
    "开心水",
    "咔哇潮饮",
    "止咳水",
    "聪明药",
    "笑气",
    "嗨药",
    "上头电子烟",
    "出货",
    "散货",
    "低价出",
    "货到付款",
    "走货",
)

#: contact exchange: a WeChat or QQ id, a mobile number (the folded text has no spaces)
DEFAULT_PATTERNS: tuple[str, ...] = (
    r"(微信|weixin|wechat|vx|wx|加v|v信|威信)(号|id)?[:：]?[a-z][-_a-z0-9]{5,19}",
    r"(qq|扣扣)(号)?[:：]?[1-9][0-9]{4,11}",
    r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])",
)

_DROPPED = re.compile(r"[\s\-_.·•,，。、|/\\*~`'\"“”‘’!！?？()（）\[\]【】<>《》]+")


def fold(text: str) -> str:
    """The text as words are matched: full width folded (NFKC), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def squeeze(text: str) -> str:
    """The folded text without spaces and punctuation (what hides 冰 毒 from a plain search)."""
    return _DROPPED.sub("", fold(text))


log = logging.getLogger(__name__)

#: the longest one pattern may take on one message: a catastrophic pattern (``(a+)+$``) stops
#: there, and the message is held for a reviewer (never delivered unchecked)
PATTERN_SECONDS = 0.05


def _compile(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern, regex.VERSION0)


@dataclass(frozen=True)
class KeywordList:
    words: tuple[str, ...]
    patterns: tuple[regex.Pattern[str], ...]

    def match(self, text: str) -> str | None:
        """The first word or pattern the text matches, or None. A pattern that runs out of
        time counts as a match: the message waits for a reviewer."""
        squeezed = squeeze(text)
        for word in self.words:
            if word and word in squeezed:
                return word
        for pattern in self.patterns:
            try:
                if pattern.search(squeezed, timeout=PATTERN_SECONDS):
                    return pattern.pattern
            except TimeoutError:
                log.warning(
                    "keyword pattern %r ran out of time; the message is held", pattern.pattern
                )
                return _("%(pattern)s (too slow to check)", pattern=pattern.pattern)
        return None


@lru_cache(maxsize=1)
def default_list() -> KeywordList:
    return KeywordList(
        words=tuple(squeeze(w) for w in DEFAULT_WORDS),
        patterns=tuple(_compile(p) for p in DEFAULT_PATTERNS),
    )


def keyword_list(prefecture_id: int) -> KeywordList:
    """The prefecture's list, or the default when it has none."""
    rows = db.session.execute(
        select(MessageKeyword.pattern, MessageKeyword.is_regex).where(
            MessageKeyword.prefecture_id == prefecture_id
        )
    ).all()
    if not rows:
        return default_list()
    return KeywordList(
        words=tuple(squeeze(p) for p, is_regex in rows if not is_regex),
        patterns=tuple(_compile(p) for p, is_regex in rows if is_regex),
    )


def held_for(text: str, prefecture_id: int) -> str | None:
    """Why a message with this text is held in this prefecture (the match), or None."""
    return keyword_list(prefecture_id).match(text)


# --- a prefecture's own list -----------------------------------------------------------------------

#: the most entries a prefecture's list holds, and the longest entry (its column)
MAX_ENTRIES = 500
MAX_PATTERN = 200


@dataclass(frozen=True)
class ListView:
    words: list[str]
    patterns: list[str]
    #: the prefecture has no list of its own: these are the defaults
    is_default: bool


def list_of(prefecture: Unit) -> ListView:
    """The keyword list a prefecture's messages are held by, as its admins see it."""
    rows = db.session.execute(
        select(MessageKeyword.pattern, MessageKeyword.is_regex)
        .where(MessageKeyword.prefecture_id == prefecture.id)
        .order_by(MessageKeyword.id)
    ).all()
    if not rows:
        return ListView(list(DEFAULT_WORDS), list(DEFAULT_PATTERNS), is_default=True)
    return ListView(
        [p for p, is_regex in rows if not is_regex],
        [p for p, is_regex in rows if is_regex],
        is_default=False,
    )


def _checked(words: list[str], patterns: list[str]) -> tuple[list[str], list[str]]:
    words = list(dict.fromkeys(w.strip() for w in words if w.strip()))
    patterns = list(dict.fromkeys(p.strip() for p in patterns if p.strip()))
    if not words and not patterns:
        raise ServiceError(_("Give at least one word or pattern."), status=400)
    if len(words) + len(patterns) > MAX_ENTRIES:
        raise ServiceError(
            _("A list holds at most %(count)d entries.", count=MAX_ENTRIES), status=400
        )
    for pattern in patterns:
        try:
            _compile(pattern)
        except regex.error:
            raise ServiceError(
                _("This is not a regular expression: %(pattern)s", pattern=pattern), status=400
            ) from None
    return words, patterns


def replace_list(
    *, actor: User, prefecture: Unit, words: list[str], patterns: list[str]
) -> ListView:
    """Give a prefecture its own keyword list (its prefecture admin only); audited with the list
    it replaced, so no version is ever lost."""
    if prefecture.type != "prefecture" or not any(
        prefecture.id == unit.id for unit in actor.units_for(Role.PREFECTURE_ADMIN)
    ):
        raise Forbidden(_("Only the prefecture's admins change its keyword list."))
    words, patterns = _checked(words, patterns)
    before = list_of(prefecture)
    db.session.execute(delete(MessageKeyword).where(MessageKeyword.prefecture_id == prefecture.id))
    db.session.add_all(
        [MessageKeyword(prefecture_id=prefecture.id, pattern=w, is_regex=False) for w in words]
        + [MessageKeyword(prefecture_id=prefecture.id, pattern=p, is_regex=True) for p in patterns]
    )
    db.session.flush()
    audit.record(
        "parents.keywords_changed",
        actor=actor,
        unit_id=prefecture.id,
        target_type="unit",
        target_id=prefecture.id,
        before={"words": before.words, "patterns": before.patterns, "default": before.is_default},
        after={"words": words, "patterns": patterns},
    )
    return list_of(prefecture)
