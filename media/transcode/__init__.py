"""The only package that runs ffmpeg, ffprobe (and pdftoppm): pure argv builders and one runner.

ffmpeg's argv is built with ffmpeg-python (inputs, filter graph, outputs, ``.compile()``) and run
by our own runner, never by ffmpeg-python's ``run()``: stdin is the upload, with rlimits and a
watchdog.

Untrusted bytes reach ffmpeg through a pipe (``pipe:0``) with ``-protocol_whitelist pipe`` and a
demuxer forced from the sniffed magic bytes, so no playlist, concat script or reference inside a
file can open another file or a network connection. Every run has caps (duration, dimensions,
frame rate, streams, output size, memory, wall time).

``runner`` holds the binaries, the caps and the runner; ``probing`` probes and validates an upload;
``ladder`` builds the HLS ladder with its poster and thumbnails (and re-encodes images);
``documents`` handles PDFs and EPUBs; ``live`` runs one ffmpeg per live lecture; ``demo`` makes the
demo seed's clips.
"""
