"""Keep each package's Chinese catalog in step with its code.

Every package has its own catalog (``<package>/translations/zh_Hans_CN/LC_MESSAGES/messages.po``);
Flask-Babel merges them at run time, so packages never edit each other's catalogs.

    python scripts/i18n.py update [PKG]   # extract strings, merge into the .po (keeps translations)
    python scripts/i18n.py check [PKG]    # list strings without a Chinese translation; exit 1 if any
    python scripts/i18n.py compile        # build the .mo files the app loads
    python scripts/i18n.py apply PKG F    # merge translations from a JSON file {english: chinese}
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["elearn", "media", "courses", "quizzes", "live", "parents"]


def _po(package: str) -> Path:
    return ROOT / package / "translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def _read(package: str) -> Catalog:
    path = _po(package)
    if not path.exists():
        return Catalog(locale="zh_Hans_CN")
    with path.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def _write(package: str, catalog: Catalog) -> None:
    path = _po(package)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, no_location=True, sort_output=True)


def _template(package: str) -> Catalog:
    with tempfile.TemporaryDirectory() as folder:
        pot = Path(folder) / "messages.pot"
        subprocess.run(
            [
                sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                "-k", "_l", "-k", "lazy_gettext", "--no-location", "--sort-output",
                "-o", str(pot), package,
            ],
            check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with pot.open("rb") as handle:
            return read_po(handle)


def update(package: str) -> None:
    catalog = _read(package)
    # keep the header date: a date that changes on every run makes every branch collide
    catalog.update(_template(package), no_fuzzy_matching=True, update_creation_date=False)
    catalog.obsolete.clear()
    _write(package, catalog)


def untranslated(package: str) -> list[str]:
    """Strings in the code without a Chinese translation (read from the code, not the .po)."""
    catalog = _read(package)
    missing = []
    for message in _template(package):
        if not message.id:
            continue
        translated = catalog.get(message.id, message.context)
        if translated is None or not translated.string or translated.fuzzy:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def clashes() -> list[str]:
    """English strings two packages translate differently: Flask-Babel merges the catalogs, so
    the later one's translation would replace the other's on its pages too."""
    seen: dict[str, tuple[str, str]] = {}
    found = []
    for package in PACKAGES:
        for message in _read(package):
            if not message.id or not message.string or not isinstance(message.id, str):
                continue
            first = seen.setdefault(message.id, (package, str(message.string)))
            if first[1] != message.string:
                found.append(
                    f"{message.id!r}: {first[0]} says {first[1]!r}, {package} {message.string!r}"
                )
    return found


def check(packages: list[str]) -> int:
    status = 0
    for package in packages:
        for message in untranslated(package):
            print(f"{package}: untranslated: {message!r}")
            status = 1
    for clash in clashes():
        print(
            f"translated differently: {clash} (use one translation, or a distinct English string)"
        )
        status = 1
    return status


def compile_catalogs() -> None:
    for package in PACKAGES:
        path = _po(package)
        if path.exists():
            with path.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, _read(package))


def apply(package: str, path: str) -> None:
    mapping = json.loads(Path(path).read_text(encoding="utf-8"))
    catalog = _read(package)
    for english, chinese in mapping.items():
        message = catalog.get(english)
        if message is None:
            catalog.add(english, chinese)
        else:
            message.string = chinese
            message.flags.discard("fuzzy")
    _write(package, catalog)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    rest = sys.argv[2:]
    if command == "update":
        for name in rest or PACKAGES:
            update(name)
    elif command == "check":
        sys.exit(check(rest or PACKAGES))
    elif command == "compile":
        compile_catalogs()
    elif command == "apply" and len(rest) == 2:
        apply(rest[0], rest[1])
    else:
        sys.exit(__doc__)
