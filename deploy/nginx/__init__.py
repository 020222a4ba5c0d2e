"""nginx in front of elearn: two templates, rendered for production and for this machine.

``deploy/nginx/nginx.conf`` (main: limits, logs) and ``deploy/nginx/elearn.conf`` (the site:
upstreams, sticky Socket.IO, compression, caching, media) are the production configuration
that the compose file mounts. They are renders of ``nginx.conf.j2`` and ``elearn.conf.j2`` with
``PRODUCTION``'s values: after editing a template, ``python -m deploy.nginx`` rewrites them (the
suite fails while they differ). ``make serve`` and the stack suite render the same templates for
this machine (``write_local``), and the suite runs ``nginx -t`` on both renders.
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from media.storage.secure_link import parse_secret

HERE = Path(__file__).resolve().parent
BANNER = (
    "Generated from deploy/nginx/{template} by `python -m deploy.nginx`: edit the template "
    "and run that, not this file."
)


class NginxMissing(RuntimeError):
    """No nginx binary on this machine."""


@dataclass(frozen=True)
class Tls:
    certificate: str
    certificate_key: str


@dataclass(frozen=True)
class S3Origin:
    """The public name of the S3 server (``S3_ENDPOINT``) and where nginx reaches it."""

    server_name: str
    upstream: str


@dataclass(frozen=True)
class Site:
    web_servers: tuple[str, ...]
    api_servers: tuple[str, ...]
    server_name: str
    cache_dir: str
    #: ``host:port`` for plain http (this machine); None with TLS (443, and 80 redirecting)
    listen: str | None = None
    tls: Tls | None = None
    s3: S3Origin | None = None
    #: ``ELEARN_MEDIA_DIR`` of the local-folder backend, whose objects nginx sends itself
    media_root: str | None = None
    #: with ``media_root``: a file setting ``$elearn_segment_secret`` (``segment_secret_conf``);
    #: nginx then checks signed HLS segment URLs itself (``/media/s/``)
    segment_secret_file: str | None = None
    metrics_allow: tuple[str, ...] = ("127.0.0.1",)
    client_max_body_size: str = "25m"


@dataclass(frozen=True)
class Main:
    site: str
    pid: str
    error_log: str
    access_log: str
    mime_types: str = "/etc/nginx/mime.types"
    user: str | None = None
    #: nginx's temporary files (Debian's default is /var/lib/nginx, root's)
    temp_dir: str | None = None
    worker_connections: int = 16384
    rlimit_nofile: int | None = 65536


#: the compose file's host: web and api are its services (every replica, by Docker's DNS)
PRODUCTION_SITE = Site(
    web_servers=("web:8000",),
    api_servers=("api:8000",),
    server_name="elearn.example.org",
    cache_dir="/var/cache/nginx/elearn-static",
    tls=Tls("/etc/nginx/certs/fullchain.pem", "/etc/nginx/certs/privkey.pem"),
    s3=S3Origin(server_name="media.elearn.example.org", upstream="minio:9000"),
    metrics_allow=("127.0.0.1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
)
PRODUCTION_MAIN = Main(
    site="/etc/nginx/conf.d/elearn.conf",
    user="nginx",
    pid="/var/run/nginx.pid",
    error_log="/var/log/nginx/error.log",
    access_log="/var/log/nginx/access.log",
)

_ENV = Environment(
    loader=FileSystemLoader(str(HERE)),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # nginx configuration, not HTML
)


def render_site(site: Site) -> str:
    template = _ENV.get_template("elearn.conf.j2")
    return template.render(banner=BANNER.format(template="elearn.conf.j2"), **_fields(site))


def render_main(main: Main) -> str:
    template = _ENV.get_template("nginx.conf.j2")
    return template.render(banner=BANNER.format(template="nginx.conf.j2"), **_fields(main))


def _fields(value: object) -> dict[str, object]:
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}  # type: ignore[arg-type]  # value is always one of the dataclasses of this module


def production_files() -> dict[str, str]:
    """``{file name: text}`` of the production configuration in deploy/nginx/."""
    return {"nginx.conf": render_main(PRODUCTION_MAIN), "elearn.conf": render_site(PRODUCTION_SITE)}


def write(folder: Path, main: Main, site: Site) -> Path:
    """Write ``nginx.conf`` and ``elearn.conf`` into ``folder`` (with the log, temporary and
    cache folders they name, when those are inside it); the main file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (main.temp_dir, site.cache_dir):
        if path and Path(path).is_relative_to(folder):
            Path(path).mkdir(parents=True, exist_ok=True)
    (folder / "elearn.conf").write_text(render_site(site))
    conf = folder / "nginx.conf"
    conf.write_text(render_main(main))
    return conf


def local_main(folder: Path, *, worker_connections: int | None = None) -> Main:
    """The main configuration for an nginx run by this user, every path inside ``folder``
    (``worker_connections``: each proxied websocket takes two; by default what the open-file
    limit allows)."""
    user = None
    if os.geteuid() == 0:
        # run as root, nginx's workers would otherwise become `nobody`, who cannot read the
        # media folder of whoever started the stack
        user = pwd.getpwuid(os.geteuid()).pw_name
    return Main(
        site=str(folder / "elearn.conf"),
        user=user,
        pid=str(folder / "nginx.pid"),
        error_log=str(folder / "error.log"),
        access_log=str(folder / "access.log"),
        temp_dir=str(folder / "temp"),
        # by default no more than this user may open (`ulimit -n`), less room for a worker's
        # files: a launcher that raised its limit (the 10,000-socket bench) gets more
        worker_connections=worker_connections or max(1024, min(32768, _open_files() - 512)),
        rlimit_nofile=None,
    )


def segment_secret_conf(secret: str) -> str:
    """The file the site includes for ``segment_secret_file``: the app's
    ``ELEARN_MEDIA_SEGMENT_SECRET`` as an nginx variable (keep it readable by nginx alone)."""
    return f'set $elearn_segment_secret "{parse_secret(secret)}";\n'


def write_segment_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(segment_secret_conf(secret))


def _open_files() -> int:
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 1 << 20 if soft == resource.RLIM_INFINITY else soft


def local_site(
    folder: Path,
    *,
    port: int,
    web_ports: list[int],
    api_ports: list[int],
    media_root: Path,
    segment_secret_file: Path | None = None,
) -> Site:
    """The site on 127.0.0.1:``port``, plain http, in front of processes on this machine."""
    return Site(
        segment_secret_file=str(segment_secret_file) if segment_secret_file else None,
        web_servers=tuple(f"127.0.0.1:{p}" for p in web_ports),
        api_servers=tuple(f"127.0.0.1:{p}" for p in api_ports),
        server_name="_",
        listen=f"127.0.0.1:{port}",
        cache_dir=str(folder / "cache"),
        media_root=str(media_root),
    )


def binary() -> str:
    """The nginx binary; NginxMissing (saying how to install it) when there is none."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )
    if found is None:
        raise NginxMissing(
            "nginx is not installed: `make serve` and the stack suite put Debian's nginx in front "
            "of the processes. Install it with `bash scripts/system-deps.sh` (`make test` does)."
        )
    return found


def argv(conf: Path, *extra: str) -> list[str]:
    """``nginx`` on ``conf``, with its folder as the prefix and start-up errors logged there."""
    folder = conf.parent
    return [binary(), "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log"), *extra]


def check(conf: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on a rendered configuration (its output says what is wrong)."""
    return subprocess.run(argv(conf, "-t"), capture_output=True, text=True, timeout=60)
