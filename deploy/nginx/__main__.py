"""``python -m deploy.nginx``: rewrite deploy/nginx/nginx.conf and elearn.conf from their
templates after a template changed; ``--check`` only says whether they are current.

For a deployment's own names: ``python -m deploy.nginx --server-name elearn.example.gov.cn
--media-server-name media.elearn.example.gov.cn --out /etc/elearn/nginx`` (the compose file
mounts ``$ELEARN_NGINX_DIR``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from deploy.nginx import HERE, PRODUCTION_MAIN, PRODUCTION_SITE, render_main, render_site


def main(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.nginx", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the files are stale")
    parser.add_argument("--server-name", help="the app's host name")
    parser.add_argument("--media-server-name", help="the S3 origin's host name (S3_ENDPOINT)")
    parser.add_argument("--out", type=Path, help="write here instead of deploy/nginx/")
    options = parser.parse_args(args)
    site = PRODUCTION_SITE
    if options.server_name:
        site = dataclasses.replace(site, server_name=options.server_name)
    if options.media_server_name and site.s3:
        site = dataclasses.replace(
            site, s3=dataclasses.replace(site.s3, server_name=options.media_server_name)
        )
    folder = options.out or HERE
    files = {"nginx.conf": render_main(PRODUCTION_MAIN), "elearn.conf": render_site(site)}
    stale = [name for name, text in files.items() if _read(folder / name) != text]
    if options.check:
        if stale:
            print(
                f"{folder}: {', '.join(stale)} differ from the templates; run python -m deploy.nginx"
            )
            return 1
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (folder / name).write_text(files[name])
        print(f"{folder / name} written")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
