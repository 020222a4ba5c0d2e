"""Question interchange: GIFT, Moodle XML and the teachers' .xlsx template.

Parsers turn a file into ``QuestionDraft``s and per-question errors (with line numbers); the
service validates every draft against its type and imports nothing when any error remains
(as Moodle rejects a whole file for one bad question). Exporters turn versions back into files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BLANK = "_____"


@dataclass
class QuestionDraft:
    type: str
    stem: str
    data: dict[str, Any] = field(default_factory=dict)
    grading: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    #: "parent/child" category path inside the bank
    category: str | None = None
    general_feedback: str = ""
    default_mark: float = 1.0
    topic: str | None = None
    grade_band: str | None = None
    difficulty: int | None = None
    #: where the question starts in the file (1-based line, or spreadsheet row)
    line: int = 0


@dataclass
class ParseError:
    line: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


@dataclass
class ParseResult:
    drafts: list[QuestionDraft] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    #: questions a format has that a bank has no use for (GIFT/Moodle descriptions), by line
    skipped: list[ParseError] = field(default_factory=list)
