"""The live lecture's video: transcode speed and glass-to-glass latency of the real pipeline.

Both go through ``media.ingest.LiveIngest`` (the queue, the writer feeding the live ffmpeg that
``media.transcode.live.LiveTranscode`` runs, the uploader putting segments and playlists into storage,
here the local backend), as the lecturer's chunks do in the web process.

- **Speed**: a noisy 1280×720 VP8/Opus WebM without duration or cues (what MediaRecorder sends),
  fed as fast as the pipe takes it; media seconds per wall second (target ≥ 2× realtime).
- **Latency**: frames carrying the wall clock (ms) as a grid of black and white blocks are made
  at 25 fps in real time, encoded to WebM by a realtime VP8 encoder and handed over once a second
  (MediaRecorder's timeslice). The storage folder is served over loopback (no caching) and
  headless Chromium plays the master playlist with the vendored hls.js, configured with the very
  options literal of the viewer page (read from ``live/static/live/viewer.js``); every 200 ms the
  page draws the shown frame to a canvas, reads the blocks' centres and records
  ``Date.now() − stamp`` (one machine, one clock): glass-to-glass as the viewer sees it, p50/p95
  (target p95 ≤ 10 s). Frames that don't decode cleanly (a block's centre near mid-grey, or an
  implausible stamp) are skipped and counted apart. Beside it, a poller reads the live playlist
  every second, decodes the newest frame of the newest segment and prints the delay from capture
  to the newest frame a player can fetch (the live edge).
"""

from __future__ import annotations

import http.server
import os
import queue
import re
import statistics
import subprocess
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

from media import ingest as media_ingest
from media import live
from media.storage import LocalStorage
from media.transcode import live as live_ffmpeg
from media.transcode import runner

SPEED_SECONDS = 30
TARGET_REALTIME = 2.0
LATENCY_SECONDS = int(os.environ.get("ELEARN_BENCH_LATENCY_SECONDS", "45"))
WARMUP_SECONDS = 6
TARGET_P95 = 10.0
ROOT = Path(__file__).resolve().parents[1]
VIEWER_JS = ROOT / "live" / "static" / "live" / "viewer.js"
HLS_JS = ROOT / "media" / "static" / "vendor" / "hls" / "hls.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--autoplay-policy=no-user-gesture-required"]  # fmt: skip
SAMPLE_MS = 200
WIDTH, HEIGHT, FPS = 640, 360, 25
COLUMNS, ROWS = 8, 5  # 40 bits: wall-clock ms modulo 2**40
BLOCK_W, BLOCK_H = WIDTH // COLUMNS, HEIGHT // ROWS


def make_noisy_webm(path: Path) -> None:
    """30 s of noisy 720p at 25 fps and a tone, VP8/Opus WebM like MediaRecorder (no cues)."""
    piece = path.with_name(f"piece-{os.getpid()}.webm")
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=10",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=10",
            "-vf", "noise=alls=25:allf=t+u",
            "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "2500k",
            "-c:a", "libopus", "-b:a", "64k", "-f", "webm", str(piece),
        ],
        check=True,
        timeout=1200,
    )  # fmt: skip
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "2",
            "-i", str(piece), "-c", "copy", "-t", str(SPEED_SECONDS),
            "-f", "webm", "-live", "1", str(path),
        ],
        check=True,
        timeout=600,
    )  # fmt: skip
    piece.unlink()


def cached_webm() -> Path:
    path = Path(tempfile.gettempdir()) / "elearn-bench-live-v1.webm"
    if not path.exists():
        partial = path.with_name(f".{path.name}.{os.getpid()}.webm")
        make_noisy_webm(partial)
        os.replace(partial, path)
    return path


def _ingest(storage: LocalStorage, plan: live_ffmpeg.LivePlan, work: Path, asset_id: str,
            on_ready=None) -> media_ingest.LiveIngest:  # type: ignore[no-untyped-def]  # fmt: skip
    prefix = f"assets/{asset_id}/live/"
    renditions = [
        {**r, "playlist_key": prefix + r["playlist"]} for r in live_ffmpeg.live_renditions(plan)
    ]
    return media_ingest.LiveIngest(
        asset_id=asset_id,
        storage=storage,
        plan=plan,
        limits=runner.Limits(),
        renditions=renditions,
        master_key=prefix + "master.m3u8",
        on_ready=on_ready,
        work_root=str(work),
    )


def _offer(ingest: media_ingest.LiveIngest, chunk: bytes) -> None:
    while not ingest.offer(chunk):
        if not ingest.transcode.running:
            raise RuntimeError(f"live ffmpeg ended early: {ingest.transcode.errors()}")
        time.sleep(0.002)


def _cpu_children() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def speed(work: Path) -> list[str]:
    source = cached_webm().read_bytes()
    storage = LocalStorage(work / "store-speed", "bench")
    ingest = _ingest(storage, live_ffmpeg.LivePlan(), work, "a" * 32)
    cpu = _cpu_children()
    started = time.monotonic()
    for offset in range(0, len(source), 256 * 1024):
        _offer(ingest, source[offset : offset + 256 * 1024])
    ingest.finish()
    ingest.done.wait(600)
    wall = time.monotonic() - started
    cpu = _cpu_children() - cpu
    playlist = storage.get("assets/" + "a" * 32 + "/live/480p/index.m3u8").decode()
    media = sum(float(line[8:].split(",")[0]) for line in playlist.splitlines()
                if line.startswith("#EXTINF:"))  # fmt: skip
    ratio = media / wall
    verdict = "OK" if ratio >= TARGET_REALTIME else "BELOW TARGET"
    return [
        f"live transcode (noisy 720p VP8/Opus WebM → 480p + 64k audio HLS, uploaded): "
        f"{media:.0f} s of media in {wall:.1f} s = {ratio:.1f}× realtime "
        f"(target ≥ {TARGET_REALTIME:g}×: {verdict}); ffmpeg CPU {cpu:.1f} s",
        f"  ({ingest.stats.segments} segments and their playlists put into storage as written)",
    ]


# --- latency -----------------------------------------------------------------------------------


def _frame(stamp_ms: int) -> bytes:
    bits = [(stamp_ms >> (39 - i)) & 1 for i in range(COLUMNS * ROWS)]
    rows = []
    for r in range(ROWS):
        line = b"".join((b"\xeb" if bits[r * COLUMNS + c] else b"\x10") * BLOCK_W
                        for c in range(COLUMNS))  # fmt: skip
        rows.append(line * BLOCK_H)
    return b"".join(rows)


def _read_stamp(frame: bytes) -> int:
    value = 0
    for r in range(ROWS):
        for c in range(COLUMNS):
            y = r * BLOCK_H + BLOCK_H // 2
            x = c * BLOCK_W + BLOCK_W // 2
            value = (value << 1) | (1 if frame[y * WIDTH + x] > 128 else 0)
    return value


def _newest_stamp(segment: Path) -> int | None:
    result = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(segment),
         "-vf", f"scale={WIDTH}:{HEIGHT},format=gray", "-f", "rawvideo", "-"],
        capture_output=True,
        timeout=30,
        check=False,
    )  # fmt: skip
    size = WIDTH * HEIGHT
    if result.returncode != 0 or len(result.stdout) < size:
        return None
    return _read_stamp(result.stdout[-size:])


# --- the viewer: hls.js in headless Chromium ---------------------------------------------------


def viewer_hls_options() -> str:
    """The viewer page's hls.js options, as the JavaScript object literal written in viewer.js."""
    match = re.search(r"var HLS_OPTIONS = (\{.*?\});", VIEWER_JS.read_text(), re.DOTALL)
    if match is None:
        raise RuntimeError(f"no `var HLS_OPTIONS = {{...}};` in {VIEWER_JS}")
    return match.group(1)


#: plays the master playlist and reads the clock off the shown frame every SAMPLE_MS; a block's
#: centre (a 5×5 patch) must be clearly dark or light, else the frame is counted as undecodable
PLAYER_PAGE = """<!doctype html><meta charset="utf-8">
<video id="v" muted playsinline autoplay></video><canvas id="c"></canvas>
<script src="/hls.min.js"></script>
<script>
var COLUMNS = %(columns)d, ROWS = %(rows)d, MODULO = Math.pow(2, 40);
var samples = [], failed = 0, errors = [];
var video = document.getElementById("v"), canvas = document.getElementById("c");
var context = canvas.getContext("2d", {willReadFrequently: true});
var hls = new Hls(%(options)s);
hls.on(Hls.Events.ERROR, function (event, data) {
  errors.push((data.fatal ? "fatal:" : "") + data.details);
  if (data.fatal && data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
});
hls.loadSource("/%(master)s");
hls.attachMedia(video);
video.play().catch(function () {});
function stamp() {
  var w = video.videoWidth, h = video.videoHeight;
  if (!w || !h || video.readyState < 2) return null;
  canvas.width = w; canvas.height = h;
  context.drawImage(video, 0, 0, w, h);
  var pixels = context.getImageData(0, 0, w, h).data, value = 0;
  for (var r = 0; r < ROWS; r++) {
    for (var c = 0; c < COLUMNS; c++) {
      var cx = Math.floor((c + 0.5) * w / COLUMNS), cy = Math.floor((r + 0.5) * h / ROWS), sum = 0;
      for (var dy = -2; dy <= 2; dy++) for (var dx = -2; dx <= 2; dx++) {
        var i = ((cy + dy) * w + cx + dx) * 4;
        sum += (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
      }
      var grey = sum / 25;
      if (Math.abs(grey - 128) < 48) return null;  // blurred or half-changed block
      value = value * 2 + (grey > 128 ? 1 : 0);
    }
  }
  return value;
}
setInterval(function () {
  var now = Date.now(), value = stamp();
  if (value === null) { if (video.currentTime > 0) failed++; return; }
  var delay = ((now %% MODULO) - value + MODULO) %% MODULO;
  if (delay > 120000) { failed++; return; }  // not a stamp a camera made in the last 2 minutes
  samples.push([now, delay / 1000]);
}, %(sample_ms)d);
</script>
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Files of the storage folder, the player page and hls.js; nothing is cached (live)."""

    page = b""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path in ("/", "/hls.min.js"):
            body = self.page if self.path == "/" else HLS_JS.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if self.path == "/" else "text/javascript")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def serve(folder: Path, master_key: str) -> http.server.ThreadingHTTPServer:
    """Serve ``folder`` and the player page on loopback, in a daemon thread."""
    page = PLAYER_PAGE % {
        "columns": COLUMNS, "rows": ROWS, "options": viewer_hls_options(),
        "master": master_key, "sample_ms": SAMPLE_MS,
    }  # fmt: skip
    handler = type("Handler", (_Handler,), {"page": page.encode()})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(handler, directory=str(folder))
    )
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _watch(storage: LocalStorage, key: str, master_key: str, browser: Any, port: int,
           began: float) -> tuple[list[float], Any]:  # fmt: skip
    """Open the player once the master playlist exists; meanwhile measure the live edge."""
    page = None
    delays: list[float] = []
    seen: set[str] = set()
    while time.monotonic() - began < LATENCY_SECONDS + WARMUP_SECONDS:
        time.sleep(1.0)
        if page is None and storage.stat(master_key) is not None:
            page = browser.new_page(viewport={"width": 800, "height": 600})
            page.goto(f"http://127.0.0.1:{port}/")
        if storage.stat(key) is None:
            continue
        names = live.playlist_segments(storage.get(key).decode())
        if not names or names[-1] in seen:
            continue
        seen.add(names[-1])
        path = storage.open(key.rsplit("/", 1)[0] + "/" + names[-1])
        stamp = _newest_stamp(path)
        now_ms = int(time.time() * 1000) % (1 << 40)
        if stamp is None:
            continue
        delay = (now_ms - stamp) / 1000
        if time.monotonic() - began > WARMUP_SECONDS and 0 <= delay < 120:
            delays.append(delay)
    return delays, page


def latency(work: Path) -> list[str]:
    storage = LocalStorage(work / "store-latency", "bench")
    asset_id = "b" * 32
    plan = live_ffmpeg.LivePlan(has_audio=False)
    ingest = _ingest(storage, plan, work, asset_id)
    encoder = subprocess.Popen(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS),
            "-i", "pipe:0", "-pix_fmt", "yuv420p",
            "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1200k",
            "-f", "webm", "-live", "1", "-cluster_time_limit", "1000", "pipe:1",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert encoder.stdin is not None and encoder.stdout is not None
    stop = threading.Event()
    pieces: queue.Queue[bytes] = queue.Queue()

    def camera() -> None:
        start = time.monotonic()
        n = 0
        while not stop.is_set():
            target = start + n / FPS
            pause = target - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            encoder.stdin.write(_frame(int(time.time() * 1000) % (1 << 40)))  # type: ignore[union-attr]
            n += 1
        encoder.stdin.close()  # type: ignore[union-attr]

    def reader() -> None:
        while True:
            data = encoder.stdout.read1(65536)  # type: ignore[union-attr]
            if not data:
                break
            pieces.put(data)

    def recorder() -> None:
        # MediaRecorder's timeslice: what was encoded in the last second goes out as one chunk
        while not stop.is_set() or not pieces.empty():
            time.sleep(1.0)
            chunk = b""
            while not pieces.empty():
                chunk += pieces.get()
            if chunk:
                _offer(ingest, chunk)

    key = f"assets/{asset_id}/live/{plan.video_name}/index.m3u8"
    master_key = f"assets/{asset_id}/live/master.m3u8"
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    server = serve(storage.root / "objects", master_key)
    threads = [threading.Thread(target=fn, daemon=True) for fn in (camera, reader, recorder)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    began_ms = time.time() * 1000
    try:
        delays, page = _watch(storage, key, master_key, browser, server.server_address[1], began)
        result = (
            page.evaluate("({samples, failed, errors})")
            if page is not None
            else {"samples": [], "failed": 0, "errors": ["the master playlist never appeared"]}
        )
    finally:
        browser.close()
        playwright.stop()
        server.shutdown()
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        encoder.wait(timeout=30)
        ingest.finish()
        ingest.done.wait(60)
    # as for the edge: the first seconds of the run (the stream starting) are not counted
    shown = [delay for at, delay in result["samples"] if at >= began_ms + WARMUP_SECONDS * 1000]
    lines = []
    if len(shown) < 10:
        lines.append(
            f"glass-to-glass as the viewer sees it: too few decoded frames ({len(shown)}; "
            f"{result['failed']} undecodable; hls.js errors: {result['errors'][-5:]}): MISS"
        )
    else:
        p50, p95 = _percentiles(shown)
        verdict = "PASS" if p95 <= TARGET_P95 else "MISS"
        lines.append(
            f"glass-to-glass as the viewer sees it (hls.js in Chromium, viewer.js options; "
            f"{len(shown)} frames read every {SAMPLE_MS} ms, {result['failed']} undecodable "
            f"skipped): p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(shown):.2f} s "
            f"(target p95 ≤ {TARGET_P95:g} s: {verdict})"
        )
    if len(delays) < 3:
        lines.append(f"live edge: too few segments ({len(delays)}); is ffmpeg keeping up?")
    else:
        p50, p95 = _percentiles(delays)
        lines.append(
            f"live edge, capture → newest frame a player can fetch ({len(delays)} segments, "
            f"{LATENCY_SECONDS} s at real-time pace): p50 {p50:.2f} s, p95 {p95:.2f} s"
        )
    return lines


def run() -> list[str]:
    lines = [
        "machine caveat: 2 cores shared with other work; figures are upper bounds on latency "
        "and lower bounds on speed"
    ]
    with tempfile.TemporaryDirectory(prefix="elearn-bench-live-") as folder:
        work = Path(folder)
        lines += speed(work)
        lines += latency(work)
    return lines


if __name__ == "__main__":
    for line in run():
        print(line)
