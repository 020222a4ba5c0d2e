"""The README and docs/ stand alone: a newcomer has nothing but the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readme_opens_with_the_two_commands_and_the_docs_exist():
    opening = (ROOT / "README.md").read_text().splitlines()[:10]
    assert any(line.startswith("make run") for line in opening)
    assert any(line.startswith("make test") for line in opening)
    assert {p.name for p in (ROOT / "docs").glob("*.md")} >= {"domain.md", "architecture.md"}


def test_no_document_sends_a_newcomer_outside_the_repository():
    for document in _documents():
        text = document.read_text()
        assert "../shared" not in text, document
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            resolved = (document.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), (document, target)
            assert resolved.exists(), (document, target)
