#!/usr/bin/env bash
# Debian packages the tests and benches need: ffmpeg/ffprobe, Chromium (for Playwright), nginx
# (the stack suite and `make serve` put it in front of the processes; `nginx -t` checks
# deploy/nginx/) and a Chinese font, without which the browser tests' screenshots show empty
# boxes instead of text.
# `system-deps.sh --runtime` (what `make run` calls) installs only what the app itself runs:
# ffmpeg/ffprobe (media processing, the demo seed's video lessons), pdftoppm and the font;
# `--serve` (what `make serve` calls) nginx too.
set -euo pipefail
mode="${1:-}"
need=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || need+=(ffmpeg)
if [ "$mode" != "--runtime" ] && [ "$mode" != "--serve" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  # the video appointment's browser test runs Chromium in a loopback-only network namespace
  command -v unshare >/dev/null || need+=(util-linux)
  command -v ip >/dev/null || need+=(iproute2)
fi
command -v pdftoppm >/dev/null || need+=(poppler-utils)
command -v wrk >/dev/null || need+=(wrk)  # the HTTP load generator of `make bench`
# nginx in front of the stack (`make serve`, tests/stack/), which runs it with its own
# configuration, ports and pid file, never as the system's service
if [ "$mode" != "--runtime" ]; then
  [ -x /usr/sbin/nginx ] || need+=(nginx)
fi
fc-list :lang=zh family 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
