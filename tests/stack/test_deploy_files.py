"""The deploy files hold: nginx takes the production configuration (`nginx -t`), and the committed
files are the templates' render."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from deploy import nginx

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


# --- nginx ----------------------------------------------------------------------------------


def test_the_committed_nginx_files_are_the_templates_rendered():
    for name, text in nginx.production_files().items():
        assert (DEPLOY / "nginx" / name).read_text() == text, (
            f"deploy/nginx/{name} differs from its template: run `python -m deploy.nginx`"
        )


@pytest.fixture
def certificate(tmp_path: Path) -> nginx.Tls:
    key, cert = tmp_path / "privkey.pem", tmp_path / "fullchain.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=elearn.example.org", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return nginx.Tls(str(cert), str(key))


def test_nginx_takes_the_production_configuration(tmp_path, certificate):
    """The production render, with this machine's addresses for the compose services' names
    (nginx resolves upstreams when it loads) and files in a temporary folder; every location,
    map, header and TLS setting as committed."""
    nginx.binary()  # a missing nginx fails here, saying how to install it
    folder = tmp_path / "production"
    local = nginx.local_main(folder)
    main = dataclasses.replace(
        nginx.PRODUCTION_MAIN,
        **{
            f: getattr(local, f)
            for f in ("site", "user", "pid", "error_log", "access_log", "temp_dir")
        },
    )
    assert nginx.PRODUCTION_SITE.s3 is not None
    site = dataclasses.replace(
        nginx.PRODUCTION_SITE,
        web_servers=("127.0.0.1:1", "127.0.0.1:2"),
        api_servers=("127.0.0.1:3",),
        cache_dir=str(folder / "cache"),
        tls=certificate,
        s3=dataclasses.replace(nginx.PRODUCTION_SITE.s3, upstream="127.0.0.1:4"),
    )
    conf = nginx.write(folder, main, site)
    checked = nginx.check(conf)
    assert checked.returncode == 0, checked.stderr
    text = (folder / "elearn.conf").read_text()
    assert "listen 443 ssl;" in text and "hash $elearn_sticky consistent;" in text


def test_nginx_refuses_a_broken_configuration(tmp_path):
    """The check can fail: a directive nginx does not know is refused, and says where."""
    folder = tmp_path / "broken"
    site = nginx.local_site(
        folder, port=8080, web_ports=[8001], api_ports=[8010], media_root=tmp_path
    )
    conf = nginx.write(folder, nginx.local_main(folder), site)
    (folder / "elearn.conf").write_text(
        (folder / "elearn.conf").read_text().replace("gzip off;", "gzip sometimes;")
    )
    checked = nginx.check(conf)
    assert checked.returncode != 0 and "gzip" in checked.stderr
