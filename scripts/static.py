"""Build the static files the app serves: content-hashed copies, gzip and brotli forms, manifests.

    python scripts/static.py build    # each package's static/ that changed since its last build
    python scripts/static.py check    # exit 1 if a package's static/ is not built as it is now

``make install`` builds (and so ``make run`` and ``make test``); the built files are not committed
(``.gitignore``). See ``elearn/static_files.py`` for what is served how.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from elearn.static_files import build, is_built  # noqa: E402

PACKAGES = ["elearn", "media", "courses", "quizzes", "live", "parents"]
FOLDERS = [ROOT / package / "static" for package in PACKAGES]


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "build"
    if command == "build":
        for folder in build(FOLDERS):
            print(f"built {folder.relative_to(ROOT)}")
        return 0
    if command == "check":
        stale = [f for f in FOLDERS if f.is_dir() and not is_built(f)]
        for folder in stale:
            print(f"not built: {folder.relative_to(ROOT)} (run `make install`)")
        return 1 if stale else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
