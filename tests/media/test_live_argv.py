"""The live transcode's pure parts: the ffmpeg argv, the renditions, the player's playlists."""

from __future__ import annotations

from media.live import vod_playlist, windowed_playlist
from media.transcode import ladder, runner
from media.transcode import live as live_ffmpeg

LIVE = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-INDEPENDENT-SEGMENTS
""" + "".join(f"#EXTINF:2.000000,\nseg_{i:05d}.ts\n" for i in range(12))


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_live_argv_reads_only_a_webm_pipe_and_writes_two_second_hls():
    argv = live_ffmpeg.build_live_argv(live_ffmpeg.LivePlan(), "/tmp/out")
    assert argv[0] == runner.FFMPEG
    assert "-nostdin" not in argv  # stdin is the input
    assert argv.index("-protocol_whitelist") < argv.index("-i")
    assert _option(argv, "-protocol_whitelist") == "pipe"
    assert _option(argv, "-f") == "webm" and _option(argv, "-i") == "pipe:0"
    assert "+genpts" in _option(argv, "-fflags")
    assert _option(argv, "-hls_time") == "2"
    assert _option(argv, "-g") == "50" and _option(argv, "-sc_threshold") == "0"
    assert _option(argv, "-var_stream_map") == "v:0,a:0,name:480p a:1,name:audio"
    assert _option(argv, "-b:a:1") == str(ladder.AUDIO_BITRATE)
    assert _option(argv, "-master_pl_name") == "master.m3u8"
    assert _option(argv, "-hls_segment_filename") == "/tmp/out/%v/seg_%05d.ts"
    assert "temp_file" in _option(argv, "-hls_flags")
    assert argv[-1] == "/tmp/out/%v/index.m3u8"
    assert "-loglevel" in argv[:6]  # general options before the input, not trailing


def test_live_argv_without_sound_has_one_rendition():
    plan = live_ffmpeg.LivePlan(has_audio=False, height=720)
    argv = live_ffmpeg.build_live_argv(plan, "/o")
    assert _option(argv, "-var_stream_map") == "v:0,name:720p"
    assert "0:a:0" not in argv
    assert [r["name"] for r in live_ffmpeg.live_renditions(plan)] == ["720p"]


def test_live_renditions_list_audio_at_64k_and_the_picture():
    renditions = live_ffmpeg.live_renditions(live_ffmpeg.LivePlan())
    assert [(r["name"], r["kind"]) for r in renditions] == [("audio", "audio"), ("480p", "video")]
    assert renditions[0]["bandwidth"] < 100_000 < renditions[1]["bandwidth"]


def test_windowed_playlist_keeps_the_newest_segments_signed():
    text = windowed_playlist(LIVE, sign=lambda name: f"https://s/{name}?sig", window=3)
    lines = text.splitlines()
    assert "#EXT-X-MEDIA-SEQUENCE:9" in lines
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" not in lines  # an event playlist may not drop segments
    assert [line for line in lines if not line.startswith("#")] == [
        "https://s/seg_00009.ts?sig", "https://s/seg_00010.ts?sig", "https://s/seg_00011.ts?sig",
    ]  # fmt: skip
    assert "#EXT-X-ENDLIST" not in text


def test_windowed_playlist_of_an_ended_stream_has_everything():
    text = windowed_playlist(LIVE + "#EXT-X-ENDLIST\n", sign=lambda name: name, window=3)
    assert text.count("seg_") == 12 and text.rstrip().endswith("#EXT-X-ENDLIST")
    assert "#EXT-X-MEDIA-SEQUENCE:0" in text


def test_windowed_playlist_drops_names_ffmpeg_never_writes():
    hostile = LIVE + "#EXTINF:2.0,\n../../secret.ts\n#EXTINF:2.0,\nhttp://evil/x.ts\n"
    text = windowed_playlist(hostile, sign=lambda name: "signed:" + name, window=50)
    assert "secret" not in text and "evil" not in text


def test_vod_playlist_is_typed_and_ended_once():
    text = vod_playlist(LIVE)
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and "EVENT" not in text
    assert text.count("#EXT-X-ENDLIST") == 1
    assert vod_playlist(text).count("#EXT-X-ENDLIST") == 1


def test_segment_keys_only_for_names_ffmpeg_writes():
    from media.live import segment_key

    asset = "0123456789abcdef0123456789abcdef"
    assert segment_key(asset, "480p", "seg_00012.ts") == f"assets/{asset}/live/480p/seg_00012.ts"
    for name, segment in [("480p", "../x.ts"), ("../v1", "seg_00001.ts"), ("480p", "seg_1.m3u8"),
                          ("480p", "seg_00001.ts/x"), ("A B", "seg_00001.ts")]:  # fmt: skip
        assert segment_key(asset, name, segment) is None
    assert segment_key("../../etc", "480p", "seg_00001.ts") is None
