"""``python -m bench [NAME...]``: print the machine, then run the benches (all, or those named)."""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path

from bench import machine


def available() -> list[str]:
    """Names of the bench modules, sorted ("roster" for bench/bench_roster.py)."""
    folder = Path(__file__).resolve().parent
    return sorted(path.stem.removeprefix("bench_") for path in folder.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    names = available()
    wanted = [arg.removeprefix("bench_").removesuffix(".py") for arg in argv]
    unknown = [name for name in wanted if name not in names]
    if unknown:
        print(f"unknown bench: {', '.join(unknown)} (available: {', '.join(names)})")
        return 2
    for line in machine():
        print(line)
    failed: list[str] = []
    for name in wanted or names:
        print(f"\n== {name}", flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.bench_{name}")
            for line in module.run():
                print(f"  {line}", flush=True)
        except Exception:  # noqa: BLE001 - one failing bench must not hide the others
            failed.append(name)
            print(f"  FAILED after {time.monotonic() - started:.1f} s:")
            print("  " + traceback.format_exc().rstrip().replace("\n", "\n  "), flush=True)
        else:
            print(f"  ({name}: {time.monotonic() - started:.1f} s)", flush=True)
    if failed:
        print(f"\n{len(failed)} bench(es) failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
