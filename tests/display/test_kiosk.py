"""issue 19: the kiosk's server side over real HTTP — verifies uploads and pasted codes, picks up trust
changes without a restart, serves localhost only, bounds uploads, and logs and returns only the view."""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ..conftest import NOW
from ._kiosk import Setup, fixed_clock, kiosk_module, serve

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")


def post(base: str, body: bytes, *, kind: str = "image", lang: str = "en", extra: str = "",
         headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    request = urllib.request.Request(f"{base}/api/verify?kind={kind}&lang={lang}{extra}", data=body, method="POST",
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("Content-Type", "")


def verdict(base: str, body: bytes, **kwargs: Any) -> dict[str, Any]:
    status, data, _ = post(base, body, **kwargs)
    assert status == 200, data
    return json.loads(data)


def test_issue19_kiosk_verifies_upload_and_paste(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    app = kiosk_module().create_app(setup.dir, clock=fixed_clock())
    with serve(app) as base:
        green = verdict(base, setup.png(setup.green, tmp_path / "g.png").read_bytes())
        assert (green["verdict"], green["colour"], green["error_code"]) == ("pass", "green", None)
        assert "Z*** S**" in green["card"]
        pasted = verdict(base, setup.green.encode(), kind="text", lang="zh-Hans")
        assert pasted["verdict"] == "pass" and "张*三" in pasted["card"]
        expired = verdict(base, setup.expired.encode(), kind="text", lang="zh-Hant")
        assert (expired["verdict"], expired["colour"], expired["error_code"]) == ("fail", "red", "expired")
        assert "碼已過期" in expired["card"]
        untrusted = verdict(base, setup.untrusted.encode(), kind="text")
        assert untrusted["error_code"] == "key_unknown" and "Issuer not trusted" in untrusted["card"]
        status, svg, kind = post(base, setup.green.encode(), kind="text", extra="&format=svg")
        assert status == 200 and kind.startswith("image/svg+xml") and b'data-verdict="pass"' in svg
        status, png, kind = post(base, setup.green.encode(), kind="text", extra="&format=png")
        assert status == 200 and png.startswith(b"\x89PNG")
        blank = io.BytesIO()
        Image.new("L", (300, 300), 255).save(blank, "PNG")
        nothing = verdict(base, blank.getvalue())
        assert (nothing["verdict"], nothing["error_code"]) == ("look_closer", "no_code_found")
        garbage = verdict(base, b"\x00" * 100)
        assert garbage["error_code"] == "image_invalid"


def test_issue19_kiosk_picks_up_trust_changes_without_restart(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    setup = Setup(tmp_path)
    listed = setup.dir / "trust-lists" / "national.htl"
    first = listed.read_bytes()
    listed.unlink()
    app = kiosk_module().create_app(setup.dir, clock=fixed_clock())
    code = setup.green.encode()
    with serve(app) as base:
        assert verdict(base, code, kind="text")["error_code"] == "trust_list_invalid"  # nothing trusted yet
        listed.write_bytes(first)
        assert verdict(base, code, kind="text")["verdict"] == "pass"  # the list arrived: applied at once
        setup.write_list(2, [setup.stranger])  # the province key withdrawn (emergency stop)
        assert verdict(base, code, kind="text")["error_code"] == "key_unknown"
        assert verdict(base, setup.untrusted.encode(), kind="text")["verdict"] == "pass"
        with caplog.at_level(logging.INFO, logger="healthpass.kiosk"):
            listed.write_bytes(first)  # an old list pushed back: refused (anti-rollback state)
            assert verdict(base, code, kind="text")["error_code"] == "trust_list_invalid"
        assert "trust-lists/national.htl: trust_list_rollback" in caplog.text


def test_issue19_kiosk_refuses_non_local_peers_and_hosts(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    app = kiosk_module().create_app(setup.dir, clock=fixed_clock())
    with serve(app) as base:
        status, _, _ = post(base, setup.green.encode(), kind="text", headers={"Host": "kiosk.example.com"})
        assert status == 403  # DNS rebinding: a foreign name pointing at 127.0.0.1
        for host in ("localhost", "127.0.0.1", base.removeprefix("http://")):
            assert post(base, setup.green.encode(), kind="text", headers={"Host": host})[0] == 200
    # A peer on another address (the ASGI scope as the server would hand it over; no traffic leaves the host)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": setup.green.encode(), "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    for peer in ("192.0.2.7", "10.0.0.2", "::ffff:192.0.2.7"):
        sent.clear()
        scope = {"type": "http", "method": "POST", "path": "/api/verify", "query_string": b"kind=text",
                 "headers": [(b"host", b"127.0.0.1:8080")], "client": (peer, 40000), "server": ("127.0.0.1", 8080),
                 "scheme": "http", "http_version": "1.1", "root_path": ""}
        asyncio.run(app(scope, receive, send))
        assert sent[0]["status"] == 403, peer
    assert kiosk_module()._is_loopback("127.0.0.2") and not kiosk_module()._is_loopback("0.0.0.0")


def test_issue19_kiosk_bounds_uploads(tmp_path: Path) -> None:
    module = kiosk_module()
    from healthpass import qr

    assert module.MAX_UPLOAD_BYTES == qr.MAX_IMAGE_BYTES  # bounded like scan input
    setup = Setup(tmp_path)
    app = module.create_app(setup.dir, clock=fixed_clock())
    with serve(app) as base:
        host, port = base.removeprefix("http://").split(":")
        for kind, limit in (("image", module.MAX_UPLOAD_BYTES), ("text", module.MAX_TEXT_BYTES)):
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.putrequest("POST", f"/api/verify?kind={kind}")  # declares more than the limit: refused unread
            conn.putheader("Content-Length", str(limit + 1))
            conn.endheaders()
            conn.send(b"x" * 1000)
            assert conn.getresponse().status == 413
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            chunks = (b"y" * 65536 for _ in range(limit // 65536 + 2))  # no length given: counted while read
            try:
                conn.request("POST", f"/api/verify?kind={kind}", body=chunks, encode_chunked=True)
                assert conn.getresponse().status == 413
            except ConnectionError:  # the server answered 413 and closed while the rest was still being sent
                pass
            conn.close()
        assert post(base, b"A" * module.MAX_TEXT_BYTES, kind="text")[0] == 200  # at the limit: read
        bomb = io.BytesIO()
        Image.new("1", (7000, 7000)).save(bomb, "PNG")  # 49 M pixels (above qr.MAX_IMAGE_PIXELS) in a few kB
        assert len(bomb.getvalue()) < module.MAX_UPLOAD_BYTES
        assert verdict(base, bomb.getvalue())["error_code"] == "image_invalid"
        assert post(base, b"x", kind="other")[0] == 400
        assert post(base, b"x", lang="fr")[0] == 400


def test_issue19_kiosk_logs_and_answers_only_the_view(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    setup = Setup(tmp_path)
    app = kiosk_module().create_app(setup.dir, clock=fixed_clock())
    answers = []
    with caplog.at_level(logging.DEBUG), serve(app) as base:
        for text in (setup.green, setup.expired, setup.untrusted):
            for lang in ("en", "zh-Hans"):
                answers.append(verdict(base, text.encode(), kind="text", lang=lang))
        answers.append(verdict(base, setup.png(setup.green, tmp_path / "g.png").read_bytes()))
    for answer in answers:
        assert set(answer) == {"verdict", "colour", "error_code", "card"}
    everything = caplog.text + json.dumps(answers, ensure_ascii=False)
    for secret in ("张小三", "ZHANG", "1980-05-17", "05-17", "Xining", "coronavac", "CHN", setup.green[:40],
                   setup.green[-40:]):
        assert secret not in everything, secret
    assert "verdict=pass" in caplog.text and "error=expired" in caplog.text


def test_issue19_kiosk_demo_configuration(tmp_path: Path) -> None:
    module = kiosk_module()
    codes = module.make_demo(tmp_path / "demo", now=NOW)
    app = module.create_app(tmp_path / "demo", clock=fixed_clock())
    with serve(app) as base:
        got = {name: verdict(base, path.read_bytes())["verdict"] for name, path in codes.items()}
    assert got == {"green": "pass", "red": "fail", "expired": "fail"}


def test_issue19_kiosk_concurrent_uploads_all_answered(tmp_path: Path) -> None:
    """More uploads at once than the kiosk checks in parallel: each waits its turn and gets its own card."""
    from concurrent.futures import ThreadPoolExecutor

    module = kiosk_module()
    setup = Setup(tmp_path)
    picture = setup.png(setup.green, tmp_path / "g.png").read_bytes()
    app = module.create_app(setup.dir, clock=fixed_clock())
    with serve(app) as base, ThreadPoolExecutor(module.MAX_CONCURRENT * 2 + 1) as pool:
        jobs = [pool.submit(verdict, base, picture if i % 2 else setup.expired.encode(), kind="image" if i % 2
                            else "text") for i in range(module.MAX_CONCURRENT * 2 + 1)]
        got = [job.result(timeout=120)["verdict"] for job in jobs]
    assert got == ["fail" if i % 2 == 0 else "pass" for i in range(len(got))]


def test_issue19_kiosk_png_card_without_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from healthpass.display import png

    monkeypatch.setattr(png, "_FONT_DIRS", (str(tmp_path),))
    monkeypatch.delenv("HEALTHPASS_CJK_FONT_DIR", raising=False)
    setup = Setup(tmp_path)
    with serve(kiosk_module().create_app(setup.dir, clock=fixed_clock())) as base:
        status, body, _ = post(base, setup.green.encode(), kind="text", extra="&format=png")
    assert status == 503 and b"fonts-noto-cjk" in body


def test_hred_kiosk_rules_fail_closed(tmp_path: Path) -> None:
    """Red team: the kiosk dropped its acceptance rules when the bundle in rules/ did not load (a damaged
    update, an older bundle pushed back) and went on passing codes with no rules at all: a green code whose
    last NAAT is four days old passed a checkpoint whose rules demand one within 48 hours. A bundle that does
    not load now refuses every code until a good one is in place; of several bundles the newest is used,
    whatever their file names."""
    from datetime import timedelta

    from healthpass.rules import RuleBundle

    from ..conftest import ROOT
    from ._build import issue, sample

    setup = Setup(tmp_path)
    rules_dir = setup.dir / "rules"
    rules_dir.mkdir()
    naat = [{**sample()["naat"][0], "sampled_at": "2026-11-21T09:30:00+08:00"}]
    old_test = issue(setup.province, sample(naat=naat)).encode()

    def bundle(seq: int) -> bytes:
        return RuleBundle.build(setup.root, ROOT / "examples" / "rules", seq=seq, valid_for=timedelta(days=30),
                                now=NOW - timedelta(hours=1))

    newer, older = bundle(2), bundle(1)
    (rules_dir / "b.bundle").write_bytes(newer)
    app = kiosk_module().create_app(setup.dir, clock=fixed_clock())
    with serve(app) as base:
        assert verdict(base, old_test, kind="text")["error_code"] == "policy_rejected"
        (rules_dir / "a.bundle").write_bytes(older)  # an older bundle beside it, sorting after it by name too
        (rules_dir / "b.bundle").rename(rules_dir / "0.bundle")
        assert verdict(base, old_test, kind="text")["error_code"] == "policy_rejected"  # the newest still rules
        (rules_dir / "0.bundle").unlink()
        for damaged in (newer[:-1] + bytes([newer[-1] ^ 1]), b"not a bundle"):
            (rules_dir / "a.bundle").write_bytes(damaged)
            outcome = verdict(base, old_test, kind="text")
            assert outcome["verdict"] != "pass" and outcome["error_code"] is not None, outcome
        (rules_dir / "a.bundle").write_bytes(older)  # rolled back below the state's seq 2: refused as well
        outcome = verdict(base, old_test, kind="text")
        assert outcome["verdict"] != "pass" and outcome["error_code"] is not None, outcome
        (rules_dir / "a.bundle").write_bytes(newer)  # a good bundle again: service restored
        assert verdict(base, old_test, kind="text")["error_code"] == "policy_rejected"
        assert verdict(base, setup.green.encode(), kind="text")["verdict"] == "pass"


def _page(base: str) -> tuple[str, Any]:
    with urllib.request.urlopen(base + "/", timeout=30) as response:
        return response.read().decode("utf-8"), response.headers  # case-insensitive


def test_hleft_item3_kiosk_page_carries_the_configured_language(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """The page names kiosk.json's language on <html> (kiosk.js starts in it), re-read when the file changes;
    without one, or with one the cards do not speak, it names none (kiosk.js follows the browser). API
    requests without ``lang`` keep their default (the configured language, else zh-Hans)."""
    setup = Setup(tmp_path, language="zh-Hant")
    with serve(kiosk_module().create_app(setup.dir, clock=fixed_clock())) as base:
        page, headers = _page(base)
        assert '<html lang="zh-Hant" data-language="zh-Hant">' in page and 'data-language=""' not in page
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert headers["Cache-Control"] == "no-store"
        status, data, _ = post(base, setup.expired.encode(), kind="text", lang="")
        assert status == 200 and "碼已過期" in json.loads(data)["card"]
        for written, expected in (({"language": "en"}, "en"), ({"profile": "clinic"}, None), ({"language": "fr"}, None),
                                  ({"language": '"><script>alert(1)</script>'}, None)):
            (setup.dir / "kiosk.json").write_text(json.dumps(written), "utf-8")
            with caplog.at_level(logging.INFO, logger="healthpass.kiosk"):
                page, _ = _page(base)
            if expected is None:
                assert '<html lang="zh-Hans" data-language="">' in page and "<script>alert" not in page
            else:
                assert f'<html lang="{expected}" data-language="{expected}">' in page
        status, data, _ = post(base, setup.expired.encode(), kind="text", lang="")
        assert status == 200 and "码已过期" in json.loads(data)["card"]  # not configured: zh-Hans, as before
    assert "kiosk.json: language must be zh-Hans, zh-Hant or en" in caplog.text


def test_hred2_kiosk_a_huge_file_in_the_configuration_is_not_read_whole(tmp_path: Path) -> None:
    """Red team (hred2): the kiosk read every file of its configuration directory whole: a sparse file of
    5 GB under trust-lists/ (or rules/, roots/, keys/) took the kiosk's memory at the next reload. It now reads
    at most MAX_DOCUMENT_BYTES + 1 bytes of each, and reports the file; the other files stay in force."""
    import tracemalloc

    from healthpass.trust import MAX_DOCUMENT_BYTES

    setup = Setup(tmp_path)
    for folder, name in (("trust-lists", "huge.htl"), ("roots", "huge.pem")):
        with (setup.dir / folder / name).open("wb") as handle:
            handle.truncate(5 << 30)
    tracemalloc.start()
    try:
        config = kiosk_module().load_config(setup.dir)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_DOCUMENT_BYTES, peak
    assert "trust-lists/huge.htl: trust_list_invalid" in config.problems
    assert any(problem.startswith("roots/huge.pem") for problem in config.problems)
    assert config.verifier is not None and len(config.verifier.keys) == 1  # the national list stays in force
