"""The pure argv builders (ffmpeg-python; exact flags), sniffing, planning, ffmpeg's defences."""

from __future__ import annotations

from fractions import Fraction

import pytest

from media.containers import FORMATS, MediaRejected, mp4_faststart, sniff, sniff_file
from media.transcode import demo as demo_clips
from media.transcode import ladder, probing, runner
from media.transcode.ladder import build_image_argv, build_ladder_argv, plan_ladder
from media.transcode.probing import Probe
from media.transcode.runner import Limits


def _probe(width=1280, height=720, fps="25/1", duration=60.0, audio=True, streams=2):
    video = {"codec_type": "video", "width": width, "height": height, "avg_frame_rate": fps}
    return Probe(format_name="mov", duration=duration, streams=streams, video=video,
                 audio={"codec_type": "audio"} if audio else None)  # fmt: skip


def _assert_untrusted_input_is_locked(argv: list[str], demuxer: str) -> None:
    """One input, stdin, its demuxer forced and only the pipe protocol allowed, all before -i."""
    assert argv[0] == "ffmpeg" and argv.count("-i") == 1
    before_input = argv[: argv.index("-i")]
    assert argv[argv.index("-i") + 1] == "pipe:0"
    assert before_input[before_input.index("-f") + 1] == demuxer
    assert before_input[before_input.index("-protocol_whitelist") + 1] == "pipe"
    assert "-nostdin" in argv
    if demuxer == "mov":
        assert before_input[before_input.index("-enable_drefs") + 1] == "0"


def test_ladder_argv_for_720p_source_is_exact():
    plan = plan_ladder(_probe(), "mov", Limits())
    assert [r.name for r in plan.rungs] == ["360p", "720p"]
    argv = build_ladder_argv(plan, "/out")
    _assert_untrusted_input_is_locked(argv, "mov")
    assert argv[1:9] == [
        "-f", "mov", "-enable_drefs", "0", "-protocol_whitelist", "pipe", "-i", "pipe:0",
    ]  # fmt: skip
    assert argv[-7:] == [
        "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
    ]  # fmt: skip
    joined = " ".join(argv)
    graph = argv[argv.index("-filter_complex") + 1]
    # decode once, one split feeding every rung, the poster and the thumbnail strip
    assert graph.count("[0:v:0]") == 1 and graph.count("split=4") == 1
    assert graph.count("scale=-2:360[") == 1 and graph.count("scale=-2:720[") == 1
    # ffmpeg-python escapes the comma for the filtergraph level
    assert "trim=start=5" in graph and "scale=-2:min(720\\,ih)" in graph
    assert "tile=10x3" in graph and "fps=1/2" in graph
    # fixed GOP of 2 s at 25 fps, no scene-cut keyframes: segments align across rungs
    for flag, value in (("-g", "50"), ("-keyint_min", "50"), ("-sc_threshold", "0"),
                        ("-hls_time", "2"), ("-b:v:0", "600000"), ("-b:v:1", "2500000"),
                        ("-b:a:2", "64000"), ("-hls_playlist_type", "vod"),
                        ("-master_pl_name", "master.m3u8")):  # fmt: skip
        assert argv[argv.index(flag) + 1] == value, flag
    assert argv[argv.index("-var_stream_map") + 1] == (
        "v:0,a:0,name:360p v:1,a:1,name:720p a:2,name:audio"
    )
    assert argv.count("libx264") == 1
    assert argv.count("-sn") == argv.count("-dn") == 3 and "-map_metadata" in argv  # every output
    assert argv.count("-map") == 7  # 2 video + 2 audio + audio-only + poster + thumbs
    assert "0:s" not in joined and "0:d" not in joined
    assert "/out/%v/index.m3u8" in argv and "/out/poster.jpg" in argv


def test_ladder_only_rungs_the_source_can_fill():
    assert [r.name for r in plan_ladder(_probe(640, 360), "mov", Limits()).rungs] == ["360p"]
    small = plan_ladder(_probe(320, 240, duration=4), "mov", Limits())
    assert [r.name for r in small.rungs] == ["240p"]
    portrait = plan_ladder(_probe(720, 1280), "mov", Limits())
    assert [r.name for r in portrait.rungs] == ["360p", "720p"]
    assert "scale=360:-2" in " ".join(build_ladder_argv(portrait, "/o"))


def test_high_frame_rate_is_capped_and_gop_follows():
    plan = plan_ladder(_probe(fps="60/1"), "mov", Limits())
    assert plan.fps == Fraction(30) and plan.gop == 60
    ntsc = plan_ladder(_probe(fps="30000/1001"), "mov", Limits())
    assert ntsc.gop == 60 and "fps=30000/1001" in " ".join(build_ladder_argv(ntsc, "/o"))


def test_audio_only_ladder():
    plan = plan_ladder(Probe("mp3", 30.0, 1, None, {"codec_type": "audio"}), "mp3", Limits())
    argv = build_ladder_argv(plan, "/o")
    assert "-filter_complex" not in argv and "libx264" not in argv
    assert argv[argv.index("-var_stream_map") + 1] == "a:0,name:audio"
    assert argv[argv.index("-b:a:0") + 1] == "64000"
    _assert_untrusted_input_is_locked(argv, "mp3")
    assert argv[argv.index("-hls_time") + 1] == "2" and "-sn" in argv and "-dn" in argv


def test_silent_video_has_no_audio_rungs():
    plan = plan_ladder(_probe(audio=False), "matroska", Limits())
    argv = build_ladder_argv(plan, "/o")
    assert argv[argv.index("-var_stream_map") + 1] == "v:0,name:360p v:1,name:720p"
    assert "0:a:0" not in argv and "-c:a" not in argv
    _assert_untrusted_input_is_locked(argv, "matroska")


def test_phone_video_rotated_a_quarter_turn_counts_as_portrait():
    video = {"codec_type": "video", "width": 1920, "height": 1080, "avg_frame_rate": "30/1",
             "side_data_list": [{"rotation": -90}]}  # fmt: skip
    probe = Probe("mov", 10.0, 2, video, {"codec_type": "audio"})
    assert (probe.width, probe.height) == (1080, 1920)
    plan = plan_ladder(probe, "mov", Limits())
    assert "scale=720:-2" in " ".join(build_ladder_argv(plan, "/o"))


def test_image_argv_strips_metadata_and_caps_size():
    argv = build_image_argv("png_pipe", "/o/image.png", 2048)
    _assert_untrusted_input_is_locked(argv, "png_pipe")
    assert argv[argv.index("-map_metadata") + 1] == "-1"
    graph = argv[argv.index("-filter_complex") + 1]
    assert graph.startswith("[0:v:0]scale=") and "min(iw\\,2048)" in graph
    assert "force_original_aspect_ratio=decrease" in graph
    assert argv[argv.index("-frames:v") + 1] == "1"
    assert {"-an", "-sn", "-dn", "-y"} <= set(argv) and argv[-2:] == ["-nostats", "-y"]


def test_measure_argv_copies_packets_of_the_first_audio_and_video_only():
    argv = probing.build_measure_argv("mp3", 3600)
    _assert_untrusted_input_is_locked(argv, "mp3")
    maps = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-map"]
    assert maps == ["0:a:0?", "0:v:0?"]
    assert argv[argv.index("-c") + 1] == "copy" and argv[argv.index("-t") + 1] == "3601"
    assert argv[argv.index("-progress") + 1] == "pipe:1"


@pytest.mark.parametrize(
    ("probe", "code"),
    [
        (_probe(duration=4 * 3600), "too_long"),
        (_probe(width=8000, height=4000), "dimensions_too_large"),
        (_probe(fps="240/1"), "limit_exceeded"),
        (_probe(streams=40), "limit_exceeded"),
        (Probe("mov", 10.0, 1, None, None), "no_media_streams"),
        (_probe(duration=None), "corrupt_media"),
    ],
)
def test_validate_refuses_what_exceeds_the_caps(probe, code):
    with pytest.raises(MediaRejected) as refused:
        probing.validate(probe, FORMATS["mp4"], Limits())
    assert refused.value.code == code


def test_validate_kinds():
    assert probing.validate(_probe(), FORMATS["mp4"], Limits()) == "video"
    m4a = Probe("mov", 10.0, 1, None, {"codec_type": "audio"})
    assert probing.validate(m4a, FORMATS["mp4"], Limits()) == "audio"


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"\x00\x00\x00\x18ftypmp42" + b"\0" * 20, "mp4"),
        (b"\x1a\x45\xdf\xa3" + b"\0" * 20, "webm"),
        (b"ID3\x04" + b"\0" * 20, "mp3"),
        (b"RIFF\0\0\0\0WAVEfmt ", "wav"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "webp"),
        (b"OggS" + b"\0" * 20, "ogg"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, "jpeg"),
        (b"%PDF-1.7\n", "pdf"),
        (b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n", None),
        (b"ffconcat version 1.0\n", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"PK\x03\x04" + b"\0" * 26 + b"[Content_Types].xml", None),
        (b"GIF89a", None),
    ],
)
def test_sniff_by_magic_bytes_only(head, fmt):
    found = sniff(head)
    assert (found.fmt if found else None) == fmt


def test_faststart_moves_the_index_and_keeps_the_media_playable(media_files, tmp_path):
    moved = tmp_path / "fast.mp4"
    assert mp4_faststart(media_files["video_tail_moov"], moved) is True
    assert mp4_faststart(media_files["video"], tmp_path / "again.mp4") is False
    info = probing.probe(moved, "mov", Limits())
    assert info.video is not None and abs(info.duration - 3.0) < 0.2
    out = tmp_path / "out"
    out.mkdir()
    plan = plan_ladder(info, "mov", Limits())
    runner.run_ffmpeg(build_ladder_argv(plan, str(out)), moved, duration=plan.duration,
                         out_dir=out, limits=Limits())  # fmt: skip
    assert (out / "360p" / "index.m3u8").is_file()


def test_ffmpeg_refuses_playlists_even_with_the_hls_demuxer_forced(tmp_path, listener):
    """Defence in depth: were a playlist ever handed to ffmpeg, the whitelist stops it."""
    marker = tmp_path / "marker.txt"
    marker.write_text("MARKER-e3b0c442")
    playlist = tmp_path / "list"
    playlist.write_text(
        f"#EXTM3U\n#EXTINF:1,\nfile://{marker}\n#EXTINF:1,\n"
        f"http://127.0.0.1:{listener.port}/a.ts\n#EXT-X-ENDLIST\n"
    )
    concat = tmp_path / "concat"
    concat.write_text(f"ffconcat version 1.0\nfile '{marker}'\n")
    out = tmp_path / "out"
    out.mkdir()
    for path, demuxer in ((playlist, "hls"), (concat, "concat"), (playlist, "mov")):
        with pytest.raises(MediaRejected):
            probing.probe(path, demuxer, Limits())
        plan = ladder.LadderPlan(demuxer=demuxer, duration=1.0, has_audio=True, has_video=False)
        with pytest.raises(MediaRejected):
            runner.run_ffmpeg(build_ladder_argv(plan, str(out)), path, duration=1.0,
                                 out_dir=out, limits=Limits())  # fmt: skip
    for produced in out.rglob("*"):
        if produced.is_file():
            assert b"MARKER-e3b0c442" not in produced.read_bytes()
    assert listener.connections == 0


def test_timeout_kills_ffmpeg(media_files, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    info = probing.probe(media_files["video"], "mov", Limits())
    plan = plan_ladder(info, "mov", Limits())
    tight = Limits(timeout_base=0.05, timeout_factor=0.0)
    with pytest.raises(MediaRejected) as refused:
        runner.run_ffmpeg(build_ladder_argv(plan, str(out)), media_files["video"],
                             duration=plan.duration, out_dir=out, limits=tight)  # fmt: skip
    assert refused.value.code == "processing_timeout"


def test_output_size_cap(media_files, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    info = probing.probe(media_files["video"], "mov", Limits())
    plan = plan_ladder(info, "mov", Limits())
    with pytest.raises(MediaRejected) as refused:
        runner.run_ffmpeg(build_ladder_argv(plan, str(out)), media_files["video"],
                             duration=plan.duration, out_dir=out,
                             limits=Limits(max_output_bytes=20_000))  # fmt: skip
    assert refused.value.code == "limit_exceeded"


def test_sniff_file_refuses_empty(tmp_path):
    empty = tmp_path / "e"
    empty.write_bytes(b"")
    with pytest.raises(MediaRejected) as refused:
        sniff_file(empty)
    assert refused.value.code == "empty_file"


def test_demo_clip_argv_reads_only_generated_sources_and_draws_the_title_verbatim():
    argv = demo_clips.build_demo_clip_argv("/o/demo.mp4", title="远离毒品: 100%", seconds=7)
    inputs = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-i"]
    assert [argv[argv.index(i) - 2] for i in inputs] == ["lavfi", "lavfi"]
    assert inputs[0].startswith("color=") and inputs[1].startswith("sine=")
    graph = argv[argv.index("-filter_complex") + 1]
    # the title is text, not an expansion, and its ':' is escaped for the option parser
    assert "expansion=none" in graph and "text=远离毒品\\\\: 100%" in graph
    assert "noise=" in graph and argv[argv.index("-t") + 1] == "7" and argv[-1] == "-y"
    plain = demo_clips.build_demo_clip_argv("/o/demo.mp4", title="x", seconds=7, text=False)
    assert "drawtext" not in plain[plain.index("-filter_complex") + 1]
