"""HLS segments through nginx and the app's signing, against nginx serving the same files alone.

The production process model on this machine (``deploy/stack.py``: nginx in front of two
Socket.IO processes, an API process with one gunicorn worker per core, a Celery worker and beat),
on a throwaway database and the local-folder media backend, as ``make serve`` runs it. A teacher
uploads a 60 s clip through nginx; the worker builds the HLS ladder. Then wrk (one thread, a Lua
script) fetches the 360p rendition's segments round-robin for SECONDS over CONNECTIONS
connections:

1. **signed**: each URL as the rendition's playlist gives it (``/media/s/<key>?md5=…&expires=…``,
   signed by the app with ``ELEARN_MEDIA_SEGMENT_SECRET``): nginx checks the signature itself
   (secure_link) and sends the file; the app is not asked;
2. **static**: the same files from a second nginx (same main configuration, access log
   included) that serves the media folder directly, with no check at all: the ceiling;
3. **app**: the same files under the app's own signed object URLs (``/media/o/<token>``, the
   path posters and documents take, and segments took before): nginx asks the API process,
   which checks the token and answers ``X-Accel-Redirect``; nginx sends the file. For
   comparison only.

signed and static run twice each, in the order signed, static, static, signed, so that a drift
in the machine's other load weighs on both alike; each is printed as the two runs together (their
requests over their seconds; the worse of their percentiles). Printed: req/s, p50/p95/p99 of
each, the ratio, and MB/s. Targets (issue 20): signed ≥ 1,000
req/s, p95 ≤ 20 ms, ≥ 0.8× static. wrk runs on the same cores as nginx and the app: the figures
are lower bounds of what a separate load generator would see. Exits non-zero only on errors
(non-2xx answers); a missed target prints MISS.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from bench import REDIS_URL, REPO, app_env, load, throwaway_database
from deploy import nginx
from deploy.stack import Ports, Stack
from media.storage import LocalStorage

SECONDS = int(os.environ.get("ELEARN_BENCH_HLS_SECONDS", "15"))
CONNECTIONS = int(os.environ.get("ELEARN_BENCH_HLS_CONNECTIONS", "32"))
BIN = REPO / ".venv" / "bin"
TRANSCODE_WAIT = 300.0

LUA = r"""
local paths = {}
for line in io.lines(os.getenv("HLS_PATHS")) do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
local non2xx = 0
response = function(status) if status < 200 or status > 299 then non2xx = non2xx + 1 end end
done = function(summary, latency)
  io.write(string.format("JSON {\"requests\": %d, \"seconds\": %f, \"bytes\": %d, "
    .. "\"p50\": %f, \"p95\": %f, \"p99\": %f, \"errors\": %d, \"non2xx\": %d}\n",
    summary.requests, summary.duration / 1e6, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout, non2xx))
end
"""


def _clip(folder: Path) -> Path:
    path = folder / "lesson.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "60",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-movflags", "+faststart", str(path)],
        check=True, timeout=300,
    )  # fmt: skip
    return path


def _segments(base: str, clip: Path) -> tuple[list[str], str]:
    """Upload ``clip`` as teacher1 through nginx, wait for the ladder; the 360p rendition's
    signed segment paths, and its folder's key prefix."""
    signed_in = requests.post(
        f"{base}/api/v1/auth/token",
        json={"username": "teacher1", "password": "demo1234"},
        timeout=30,
    )
    headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    data = clip.read_bytes()
    created = requests.post(
        f"{base}/api/v1/media/uploads",
        json={"filename": clip.name, "size": len(data), "content_type": "video/mp4"},
        headers=headers, timeout=60,
    ).json()  # fmt: skip
    asset_id, plan = created["asset_id"], created["upload"]
    for part in plan["parts"]:
        body = data[part["offset"] : part["offset"] + part["size"]]
        requests.put(f"{base}{part['url']}", data=body, headers=plan["headers"], timeout=120)
    requests.post(f"{base}/api/v1/media/uploads/{asset_id}/complete", headers=headers, timeout=60)
    deadline = time.monotonic() + TRANSCODE_WAIT
    while True:
        asset = requests.get(
            f"{base}/api/v1/media/assets/{asset_id}", headers=headers, timeout=30
        ).json()
        if asset["status"] == "ready":
            break
        if asset["status"] != "processing" or time.monotonic() > deadline:
            raise RuntimeError(f"the clip was not transcoded: {asset}")
        time.sleep(1)
    token_base = asset["playlist_url"].rsplit("/", 1)[0]
    playlist = requests.get(f"{base}{token_base}/360p/index.m3u8", timeout=30).text
    paths = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    if not paths or not all(p.startswith("/media/s/") for p in paths):
        raise RuntimeError(f"unexpected playlist: {playlist[:500]}")
    return paths, f"assets/{asset_id}/"


def _static_nginx(folder: Path, port: int, media_root: Path) -> subprocess.Popen[bytes]:
    """A second nginx with the stack's main configuration, serving the media folder as is."""
    site = f"""
server {{
    listen 127.0.0.1:{port};
    location /objects/ {{
        alias {media_root}/objects/;
        add_header Cache-Control "private, max-age=60";
    }}
}}
"""
    main = nginx.local_main(folder)  # its site file is folder/elearn.conf: this one
    folder.mkdir(parents=True, exist_ok=True)
    if main.temp_dir:
        Path(main.temp_dir).mkdir(parents=True, exist_ok=True)
    (folder / "elearn.conf").write_text(site)
    conf = folder / "nginx.conf"
    conf.write_text(nginx.render_main(main))
    process = subprocess.Popen(nginx.argv(conf, "-g", "daemon off;"), start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
            return process
        except requests.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the static nginx did not start") from None
            time.sleep(0.2)


def _wrk(url: str, paths: list[str], folder: Path) -> dict[str, Any]:
    listing = folder / f"paths-{len(os.listdir(folder))}.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = folder / "hls.lua"
    script.write_text(LUA)
    done = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, timeout=SECONDS + 60, env={**os.environ, "HLS_PATHS": str(listing)},
    )  # fmt: skip
    match = re.search(r"^JSON (\{.*\})$", done.stdout, re.M)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed: {done.stderr[-2000:]}{done.stdout[-2000:]}")
    figures = json.loads(match[1])
    figures["rps"] = figures["requests"] / figures["seconds"]
    return figures


def _line(name: str, f: dict[str, Any]) -> str:
    return (
        f"{name:<7} {f['rps']:,.0f} req/s, p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms, "
        f"p99 {f['p99']:.1f} ms, {f['bytes'] / f['seconds'] / 1e6:,.0f} MB/s "
        f"({f['requests']:,} in {f['seconds']:.1f} s; {f['errors']} socket errors, {f['non2xx']} non-2xx)"
    )


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def run() -> list[str]:
    for program in ("wrk", "ffmpeg"):
        if not shutil.which(program):
            raise RuntimeError(f"{program} is missing: scripts/system-deps.sh installs it")
    nginx.binary()
    lines = [
        f"segments of a 60 s clip's 360p rendition, wrk 1 thread × {CONNECTIONS} connections, {SECONDS} s each"
    ]
    with (
        tempfile.TemporaryDirectory(prefix="elearn-bench-hls-") as temp,
        throwaway_database("bench_hls") as url,
    ):
        folder = Path(temp)
        media = folder / "media"
        env = {
            **os.environ, **app_env(url), "REDIS_URL": REDIS_URL, "ELEARN_BROKER_URL": REDIS_URL,
            "ELEARN_MEDIA_DIR": str(media), "ELEARN_ASYNC_MODE": "threading", "ELEARN_COMMIT": "bench",
        }  # fmt: skip
        env.pop("ELEARN_DEMO", None)
        flask = [str(BIN / "flask"), "--app", "app"]
        for step in (["db", "upgrade", "heads"], ["elearn", "seed", "--scale", "demo"]):
            subprocess.run(
                [*flask, *step], cwd=REPO, env=env, check=True, capture_output=True, timeout=600
            )
        ports = [_free_port() for _ in range(5)]
        stack = Stack(
            env=env, run_dir=folder / "stack",
            ports=Ports(nginx=ports[0], web=(ports[1], ports[2]), api=ports[3]),
            api_workers=os.cpu_count() or 1, worker_concurrency=1, log_level="warning",
        )  # fmt: skip
        with stack:
            paths, prefix = _segments(stack.url, _clip(folder))
            objects = media.resolve() / "objects"
            files = sorted((objects / prefix).glob("v*/360p/*.ts"))
            if len(files) != len(paths):
                raise RuntimeError(f"{len(paths)} segments listed, {len(files)} files")
            static_paths = [f"/objects/{f.relative_to(objects)}" for f in files]
            static = _static_nginx(folder / "static-nginx", ports[4], media.resolve())
            local = LocalStorage(media, env["ELEARN_SECRET_KEY"])
            app_paths = [local.presigned_get(p, timedelta(hours=1)) for p in _keys(files, objects)]
            try:
                # signed, static, static, signed: the machine's other load drifts
                runs = [_wrk(stack.url, paths, folder)]
                runs += [_wrk(f"http://127.0.0.1:{ports[4]}", static_paths, folder) for _ in "ab"]
                runs.append(_wrk(stack.url, paths, folder))
                through_app = _wrk(stack.url, app_paths, folder)
            finally:
                static.terminate()
                static.wait(timeout=10)
    signed, alone = _both(runs[0], runs[3]), _both(runs[1], runs[2])
    ratio = signed["rps"] / alone["rps"]
    lines += [
        _line("signed", signed),
        _line("static", alone),
        _line("app", through_app),
        f"signed, checked by nginx: {signed['rps']:,.0f} req/s [≥ 1,000: {_verdict(signed['rps'] >= 1000)}], "
        f"p95 {signed['p95']:.1f} ms [≤ 20 ms: {_verdict(signed['p95'] <= 20)}], "
        f"ratio {ratio:.2f}× nginx alone [≥ 0.8: {_verdict(ratio >= 0.8)}]",
        f"through the app (X-Accel-Redirect): {through_app['rps'] / alone['rps']:.2f}× nginx alone",
        f"load average after: {load()} (other work on the machine lowers every figure)",
    ]
    if any(f["non2xx"] or f["errors"] for f in (signed, alone, through_app)):
        raise RuntimeError("\n".join(["errors under load:", *lines]))
    return lines


def _both(one: dict[str, Any], two: dict[str, Any]) -> dict[str, Any]:
    """Two runs as one: requests, bytes and errors added; latency percentiles, the worse."""
    both = {k: one[k] + two[k] for k in ("requests", "seconds", "bytes", "errors", "non2xx")}
    both.update({k: max(one[k], two[k]) for k in ("p50", "p95", "p99")})
    both["rps"] = both["requests"] / both["seconds"]
    return both


def _keys(files: list[Path], objects: Path) -> list[str]:
    return [f.relative_to(objects).as_posix() for f in files]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
