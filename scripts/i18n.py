"""Keep the Chinese catalog in step with the code.

python scripts/i18n.py update   # extract every string, merge into the .po (keeps translations)
python scripts/i18n.py check    # list strings without a Chinese translation; exit 1 if any
python scripts/i18n.py compile  # build the .mo files the app loads
python scripts/i18n.py apply F  # merge translations from a JSON file {english: chinese}
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["elearn", "media", "courses", "quizzes", "live", "parents"]
PO = ROOT / "elearn/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
POT = ROOT / "instance/messages.pot"


def _read() -> object:
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def _write(catalog: object) -> None:
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, no_location=True, sort_output=True)


def update() -> None:
    POT.parent.mkdir(exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "-o",
            str(POT),
            *PACKAGES,
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with POT.open("rb") as handle:
        template = read_po(handle)
    catalog = _read()
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    _write(catalog)


def untranslated() -> list[str]:
    catalog = _read()
    return [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]  # type: ignore[attr-defined]


def check() -> int:
    missing = untranslated()
    for message in missing:
        print(f"untranslated: {message!r}")
    return 1 if missing else 0


def compile_catalog() -> None:
    catalog = _read()
    with PO.with_suffix(".mo").open("wb") as handle:
        write_mo(handle, catalog)


def apply(path: str) -> None:
    mapping = json.loads(Path(path).read_text(encoding="utf-8"))
    catalog = _read()
    for message in catalog:  # type: ignore[attr-defined]
        if message.id and message.id in mapping:
            message.string = mapping[message.id]
            message.flags.discard("fuzzy")
    _write(catalog)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "check":
        sys.exit(check())
    elif command == "compile":
        compile_catalog()
    elif command == "apply":
        apply(sys.argv[2])
    else:
        sys.exit(__doc__)
