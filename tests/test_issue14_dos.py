"""Issue 14, denial of service and crashes (items 7-10): image input, CertLogic budget, extreme dates,
text-output injection. Every test is named after its item; docs/hostile-input.md lists them."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from healthpass import cose
from healthpass.codec.signed_doc import ContentType, encode_envelope
from healthpass.errors import ErrorCode, PolicyError, RuleError
from healthpass.issue import Issuer
from healthpass.model.jsonform import payload_from_json
from healthpass.model.regions import Region
from healthpass.rules import DEFAULT_OPERATION_BUDGET, RuleBundle, eval_jsonl, evaluate, run_tests_at_path
from healthpass.signers import SoftwareSigner
from healthpass.trust import issuer_key, trust_root
from healthpass.verify import Verifier

from .cli._run import run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_RULES = ROOT / "examples" / "rules"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BUILT = NOW - timedelta(days=1)




# ---------------------------------------------------------------------------------------------------
# Item 8: CertLogic evaluation runs under an operation budget
# ---------------------------------------------------------------------------------------------------

TEN = list(range(10))


def nested_reduce(depth: int) -> dict[str, Any]:
    """``reduce`` in ``reduce`` over ten elements: 10**depth evaluations of the innermost lambda."""
    expr: Any = {"+": [{"var": "accumulator"}, 1]}
    for _ in range(depth):
        expr = {"reduce": [TEN, expr, {"var": "accumulator"}]}
    return {"reduce": [TEN, expr, 0]}


def doubling(steps: int) -> dict[str, Any]:
    """An accumulator that holds itself twice: memory grows linearly, the logical size as 2**steps."""
    return {"reduce": [list(range(steps)), [{"var": "accumulator"}, {"var": "accumulator"}], 0]}


BOMBS: dict[str, Any] = {
    "nested_reduce_6": nested_reduce(6),
    "nested_reduce_12": nested_reduce(12),
    # a huge array literal walked by "in" many times
    "in_over_literal_array": {"reduce": [[0] * 800, {"in": [1, [0] * 800]}, False]},
    # values shared by reference, then compared or returned whole
    "equal_on_shared_values": {"===": [doubling(40), doubling(40)]},
    "in_on_shared_values": {"in": [doubling(40), [doubling(40)]]},
    "returned_shared_value": doubling(60),
    # a long var path read again and again
    "long_var_path": {"reduce": [[0] * 1000, {"var": ".".join(["a"] * 1500)}, 0]},
    # a long string parsed again and again ("reduce" shows its lambda only accumulator and current: the
    # string rides in the accumulator)
    "long_uvci": {"reduce": [[0] * 2000, {"if": [{"extractFromUVCI": [{"var": "accumulator"}, 1]},
                                                 {"var": "accumulator"}, {"var": "accumulator"}]},
                             {"var": "uvci"}]},
}
BOMB_DATA = {"uvci": "URN:UVCI:" + "a/" * 2000}  # a 4 kB string (rules eval: the data of the line)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_issue14_item8_bombs_stop_at_the_budget(name: str) -> None:
    expr = BOMBS[name]
    assert _size(expr) + _size(BOMB_DATA) < 10_000
    with pytest.raises(RuleError) as info:
        evaluate(expr, BOMB_DATA)
    assert info.value.code is ErrorCode.RULE_BUDGET_EXCEEDED
    assert str(DEFAULT_OPERATION_BUDGET) in info.value.message


def test_issue14_item8_budget_is_an_input() -> None:
    assert evaluate(nested_reduce(2), None) == 1000
    with pytest.raises(RuleError) as info:
        evaluate(nested_reduce(2), None, budget=500)
    assert info.value.code is ErrorCode.RULE_BUDGET_EXCEEDED
    with pytest.raises(ValueError, match="budget"):
        evaluate(True, None, budget=0)


def test_issue14_item8_sums_stay_safe_integers() -> None:
    doubling_sum = {"reduce": [list(range(200)), {"+": [{"var": "accumulator"}, {"var": "accumulator"}]}, 1]}
    with pytest.raises(RuleError) as info:
        evaluate(doubling_sum, None)
    assert info.value.code is ErrorCode.RULE_EVALUATION_FAILED and "safe integer" in info.value.message
    assert evaluate({"+": [2**53 - 2, 1]}, None) == 2**53 - 1


def test_issue14_item8_deep_results_are_reported_not_raised() -> None:
    deep = {"reduce": [[0] * 3000, [{"var": "accumulator"}], 0]}  # a result nested 3000 deep
    line = json.dumps({"logic": deep, "data": None})
    out = list(eval_jsonl([line]))
    assert len(out) == 1 and "error" in json.loads(out[0])


def test_issue14_item8_rules_eval_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [json.dumps({"logic": BOMBS[name], "data": None}) for name in ("nested_reduce_6", "nested_reduce_12")]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join([*lines, '{"logic": {"+": [1, 2]}}']) + "\n"))
    code, out, _ = run(capsys, "rules", "eval")
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(results) == 3
    assert all("rule_budget_exceeded" in r["error"] for r in results[:2]) and results[2] == {"result": 3}


def _bomb_rule(rules: Path) -> None:
    """Add rule HP-BOMB-0001 to a copy of the example rules: a bomb unless the issuer is "test"; its one
    embedded test (issuer "test") passes, so the bundle builds and loads."""
    folder = rules / "HP-BOMB-0001"
    (folder / "tests").mkdir(parents=True)
    rule = json.loads((rules / "HP-STATUS-0001" / "rule.json").read_text("utf-8"))
    rule.update(Identifier="HP-BOMB-0001",
                Logic={"if": [{"===": [{"var": "payload.issuer"}, "test"]}, True, nested_reduce(12)]})
    (folder / "rule.json").write_text(json.dumps(rule), "utf-8")
    (folder / "tests" / "t.json").write_text(json.dumps({"payload": {"issuer": "test"}, "expected": True}), "utf-8")


def _bomb_test(rules: Path) -> None:
    (rules / "HP-BOMB-0001" / "tests" / "t2.json").write_text(
        json.dumps({"payload": {"issuer": "630000"}, "expected": True}), "utf-8")


def test_issue14_item8_rules_test_directory_and_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, rules)
    _bomb_rule(rules)
    _bomb_test(rules)
    _, failed, details = run_tests_at_path(rules)
    assert failed == 1 and any("HP-BOMB-0001/t2.json" in d and "budget" in d for d in details)
    code, out, err = run(capsys, "rules", "test", str(rules))
    assert code == 1 and "1 failed" in out and "budget" in err
    signer = SoftwareSigner.generate()
    with pytest.raises(RuleError) as info:
        RuleBundle.build(signer, rules, seq=1, valid_for=timedelta(days=1), now=BUILT)
    assert info.value.code is ErrorCode.RULE_TESTS_FAILED and "budget" in info.value.message


def _seal_directory(signer: SoftwareSigner, rules: Path) -> bytes:
    """A bundle sealed by hand from a rules directory (bypassing the checks of :meth:`RuleBundle.build`)."""
    texts, tests = [], []
    for folder in sorted(p for p in rules.iterdir() if p.is_dir()):
        texts.append((folder / "rule.json").read_text("utf-8"))
        tests.extend([folder.name, t.name, t.read_text("utf-8")] for t in sorted((folder / "tests").glob("*.json")))
    issued = int(BUILT.timestamp())
    body = {1: texts, 2: (rules / "profiles.json").read_text("utf-8"), 3: tests}
    return cose.seal_document(signer, ContentType.RULE_BUNDLE.value,
                              encode_envelope(1, issued, issued + 30 * 86400, body))


def test_issue14_item8_rules_test_unverified_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, rules)
    _bomb_rule(rules)
    _bomb_test(rules)
    path = tmp_path / "bomb.bundle"
    path.write_bytes(_seal_directory(SoftwareSigner.generate(), rules))  # never checked: no root given
    code, out, err = run(capsys, "rules", "test", str(path))
    assert code == 1 and "1 failed" in out and "UNVERIFIED" in err and "budget" in err


def test_issue14_item8_verification_with_a_bundle_fails_closed(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, rules)
    _bomb_rule(rules)
    root = SoftwareSigner.generate()
    bundle = RuleBundle.load(RuleBundle.build(root, rules, seq=1, valid_for=timedelta(days=30), now=BUILT),
                             [trust_root(root.public_key_pem())])
    signer = SoftwareSigner.generate()
    payload = payload_from_json(json.loads((ROOT / "examples" / "credential.json").read_text("utf-8")))
    code = Issuer(signer, Region("630000")).issue(payload, now=NOW)
    verifier = Verifier(keys=[issuer_key(signer.public_key_pem(), region=Region("630000"))], rules=bundle)
    with pytest.raises(PolicyError) as info:
        verifier.verify(code, at=NOW, profile=None)
    assert "HP-BOMB-0001" in info.value.failed_rules
    bomb = next(r for r in info.value.results if r["id"] == "HP-BOMB-0001")
    assert bomb["passed"] is False and "budget" in bomb["error"]


# ---------------------------------------------------------------------------------------------------
# Item 7: image input (allow-list of formats, pixel budget, every failure image_invalid)
# ---------------------------------------------------------------------------------------------------

from PIL import Image  # noqa: E402 - the imaging tests need the qr extra, like tests/test_qr.py

from healthpass import qr  # noqa: E402
from healthpass.errors import ScanError  # noqa: E402

from ._hostile_images import FOREIGN, HOSTILE_IMAGES  # noqa: E402

_SCAN_OUTCOMES = {ErrorCode.IMAGE_INVALID, ErrorCode.NO_CODE_FOUND}


@pytest.mark.parametrize("name", sorted(HOSTILE_IMAGES))
def test_issue14_item7_hostile_images_are_refused_or_scanned(name: str) -> None:
    make, must_refuse = HOSTILE_IMAGES[name]
    data = make()
    with pytest.raises(ScanError) as info:
        qr.scan(data)
    assert info.value.code in _SCAN_OUTCOMES
    if must_refuse:
        assert info.value.code is ErrorCode.IMAGE_INVALID, info.value.message


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_issue14_item7_other_formats_never_reach_pillow(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Pillow was asked to open a format outside the allow-list")

    monkeypatch.setattr(Image, "open", refuse)
    assert qr.detect_format(FOREIGN[name]) is None
    with pytest.raises(ScanError) as info:
        qr.scan(FOREIGN[name])
    assert info.value.code is ErrorCode.IMAGE_INVALID and "allowed format" in info.value.message


def test_issue14_item7_format_is_pinned_to_the_magic_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file is opened with the one Pillow plugin its first bytes name: a PNG signature over JPEG data is
    not handed to the JPEG plugin."""
    seen: list[Any] = []
    real_open = Image.open

    def spy(fp: Any, mode: str = "r", formats: Any = None) -> Any:
        seen.append(formats)
        return real_open(fp, mode, formats)

    monkeypatch.setattr(Image, "open", spy)
    jpeg = io.BytesIO()
    Image.new("L", (64, 64), 255).save(jpeg, "JPEG")
    with pytest.raises(ScanError) as info:
        qr.scan(b"\x89PNG\r\n\x1a\n" + jpeg.getvalue())
    assert info.value.code is ErrorCode.IMAGE_INVALID
    with pytest.raises(ScanError) as info:
        qr.scan(jpeg.getvalue())
    assert info.value.code is ErrorCode.NO_CODE_FOUND
    assert seen == [["PNG"], ["JPEG"]]


_MEMORY_PROBE = """
import json, sys
from pathlib import Path
from healthpass import qr
from healthpass.errors import ScanError
out = {}
for path in sorted(Path(sys.argv[1]).iterdir()):
    for source in (path, path.read_bytes()):
        try:
            qr.scan(source)
            out[path.name] = "found"
        except ScanError as err:
            out[path.name] = err.code.value
# VmHWM: this process's own peak (ru_maxrss would carry the parent's peak across fork and exec)
peak = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
            if line.startswith("VmHWM:"))
print(json.dumps({"outcomes": out, "peak_kib": peak}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory from /proc")
def test_issue14_item7_small_images_stay_within_150_mb(tmp_path: Path) -> None:
    """Every hostile file (all under 10 kB but the animations) scanned from a path and from bytes in one fresh
    process: the process's peak resident memory stays under 150 MB (times: benchmarks/hostile_input.py)."""
    import subprocess
    import sys

    for name, (make, _) in HOSTILE_IMAGES.items():
        (tmp_path / name).write_bytes(make())
    proc = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(tmp_path)], capture_output=True, text=True,
                          check=True, timeout=300)
    report = json.loads(proc.stdout)
    assert set(report["outcomes"]) == set(HOSTILE_IMAGES)
    assert set(report["outcomes"].values()) <= {"image_invalid", "no_code_found"}
    assert report["peak_kib"] < 150 * 1024, report["peak_kib"]


def test_issue14_item7_real_pictures_still_scan() -> None:
    """The budgets keep what cameras and screenshots give: a big render (3.5 Mpx in a few kB), a 12 MP photo
    (read area-averaged down) and a 20 MP JPEG (decoded at half scale)."""
    code = "HC1:" + "6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0B3KL6QM5/OVGA/MAT%ZSLZ2$F5" * 5
    big = qr.render_png(code, scale=20)
    assert len(big) < 40_000 and Image.open(io.BytesIO(big)).width ** 2 > qr.FREE_IMAGE_PIXELS // 2
    assert qr.scan(big) == code
    symbol = Image.open(io.BytesIO(qr.render_png(code, scale=16))).convert("L")
    for size in ((4000, 3000), (5200, 3900)):
        photo = Image.effect_noise(size, 12).point(lambda v: v // 4 + 180)  # a grey, grainy background
        photo.paste(symbol, (size[0] // 3, size[1] // 4))
        jpeg = io.BytesIO()
        photo.save(jpeg, "JPEG", quality=85)
        assert qr.scan(jpeg.getvalue()) == code


def test_issue14_item7_files_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    with path.open("wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.truncate(qr.MAX_IMAGE_BYTES + 10)  # sparse
    with pytest.raises(ScanError) as info:
        qr.scan(path)
    assert info.value.code is ErrorCode.IMAGE_INVALID and "larger than" in info.value.message


def test_issue14_item7_cli_scan_and_verify_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    eps = tmp_path / "code.eps"
    eps.write_bytes(FOREIGN["eps"])
    code, out, err = run(capsys, "scan", str(eps))
    assert code == 1 and out == "" and "image_invalid" in err
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(HOSTILE_IMAGES["png_palette_bomb_40mpx"][0]())
    signer = SoftwareSigner.generate()
    (tmp_path / "k.pub.pem").write_bytes(signer.public_key_pem())
    code, out, err = run(capsys, "verify", "--trust-key", f"630000={tmp_path / 'k.pub.pem'}", "--json",
                         "--image", str(bomb))
    assert code == 1 and json.loads(out)["error"]["code"] == "image_invalid"


def test_issue15_item7_scan_of_a_missing_file_is_a_scan_error(tmp_path: Path) -> None:
    with pytest.raises(ScanError) as info:
        qr.scan(tmp_path / "missing.png")
    assert info.value.code is ErrorCode.IMAGE_INVALID and "cannot be read" in info.value.message
    with pytest.raises(ScanError):
        qr.scan_all(str(tmp_path))  # a directory


# ---------------------------------------------------------------------------------------------------
# Item 9: extreme dates never crash
# ---------------------------------------------------------------------------------------------------

#: Instants at the edges of what datetime holds: the offsets take the first and last out of years 1-9999
EXTREME_TIMES = ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z",
                 "9999-12-31T23:59:59Z", "0001-01-01", "9999-12-31")
OUT_OF_RANGE = EXTREME_TIMES[:2]


@pytest.fixture
def cli_keys(tmp_path: Path) -> dict[str, Path]:
    issuer, root = SoftwareSigner.generate(), SoftwareSigner.generate()
    files = {"issuer_key": tmp_path / "k.key.pem", "issuer_pub": tmp_path / "k.pub.pem",
             "root_key": tmp_path / "root.key.pem", "root_pub": tmp_path / "root.pub.pem"}
    files["issuer_key"].write_bytes(issuer.private_key_pem())
    files["issuer_pub"].write_bytes(issuer.public_key_pem())
    files["root_key"].write_bytes(root.private_key_pem())
    files["root_pub"].write_bytes(root.public_key_pem())
    return files


@pytest.mark.parametrize("at", EXTREME_TIMES)
def test_issue14_item9_verify_at_extreme_times(at: str, cli_keys: dict[str, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, text, _ = run(capsys, "mint", "--key", str(cli_keys["issuer_key"]), "--issuer", "630000", "--in",
                        str(ROOT / "examples" / "credential.json"))
    assert code == 0
    tl = tmp_path / "tl.bin"
    assert run(capsys, "trust", "build", "--root-key", str(cli_keys["root_key"]), "--seq", "1", "--valid-for", "30d",
               "--issuer-key", f"630000={cli_keys['issuer_pub']}", "--out", str(tl))[0] == 0
    bundle = tmp_path / "rules.bundle"
    assert run(capsys, "rules", "build", "--root-key", str(cli_keys["root_key"]), "--seq", "1", "--valid-for", "30d",
               str(EXAMPLE_RULES), "--out", str(bundle))[0] == 0
    for trust in (["--trust-key", f"630000={cli_keys['issuer_pub']}"],
                  ["--root", str(cli_keys["root_pub"]), "--trust-list", str(tl), "--rules", str(bundle),
                   "--state", str(tmp_path / "state")]):
        exit_code, out, err = run(capsys, "verify", *trust, "--at", at, "--json", text.strip())
        if at in OUT_OF_RANGE:
            assert exit_code == 2 and out == "" and "outside the supported range" in err
        elif "T" not in at:  # a bare date has no zone: refused (issue 15 item 4)
            assert exit_code == 2 and out == "" and "time zone" in err
        else:
            assert exit_code == 1 and json.loads(out)["error"]["code"] in {
                "not_yet_valid", "expired", "clock_untrusted", "trust_list_expired"}
        assert "Traceback" not in err


@pytest.mark.parametrize("option", ["from", "until"])
@pytest.mark.parametrize("when", EXTREME_TIMES)
def test_issue14_item9_trust_build_extreme_key_windows(option: str, when: str, cli_keys: dict[str, Path],
                                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["trust", "build", "--root-key", str(cli_keys["root_key"]), "--seq", "1", "--valid-for", "30d",
            "--out", str(tmp_path / "tl.bin")]
    code, out, err = run(capsys, *args, "--issuer-key", f"630000={cli_keys['issuer_pub']}:{option}={when}")
    assert code == 2 and out == "" and err.startswith("healthpass: error:")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"seq": 1, "valid_for": "30d", "keys": [
        {"region": "630000", "public_key": str(cli_keys["issuer_pub"]), option: when}]}))
    code, out, err = run(capsys, *args, "--manifest", str(manifest))
    assert code == 2 and out == "" and err.startswith("healthpass: error:")


@pytest.mark.parametrize("when", EXTREME_TIMES)
def test_issue14_item9_rule_valid_from_and_to(when: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, rules)
    path = rules / "HP-STATUS-0001" / "rule.json"
    rule = json.loads(path.read_text("utf-8"))
    root = SoftwareSigner.generate()
    signer = SoftwareSigner.generate()
    payload = payload_from_json(json.loads((ROOT / "examples" / "credential.json").read_text("utf-8")))
    code = Issuer(signer, Region("630000")).issue(payload, now=NOW)
    for field in ("ValidFrom", "ValidTo"):
        path.write_text(json.dumps(dict(rule, **{field: when})), "utf-8")
        try:
            data = RuleBundle.build(root, rules, seq=1, valid_for=timedelta(days=1), now=BUILT)
        except RuleError as err:  # out of range, or ValidTo not after ValidFrom
            assert err.code is ErrorCode.RULE_INVALID
            assert when not in OUT_OF_RANGE or "outside the supported range" in err.message
            continue
        assert when not in OUT_OF_RANGE
        bundle = RuleBundle.load(data, [trust_root(root.public_key_pem())])
        verifier = Verifier(keys=[issuer_key(signer.public_key_pem(), region=Region("630000"))], rules=bundle)
        with contextlib.suppress(PolicyError):  # the rule out of force: the others still apply, or none does
            verifier.verify(code, at=NOW)
        assert run_tests_at_path(rules)[1] >= 0  # the unverified runner reports, never raises


@pytest.mark.parametrize("expr", [
    {"plusTime": ["9999-12-31T23:59:59-01:00", 0, "day"]},
    {"plusTime": ["0001-01-01T00:00:00+01:00", 0, "hour"]},
    {"plusTime": ["2021-01-01", 10**18, "year"]},
    {"plusTime": ["2021-01-01", -(10**18), "month"]},
    {"plusTime": ["2021-01-01", 10**18, "hour"]},
    {"plusTime": ["2021-01-01", 1e308, "day"]},
    {"plusTime": ["9999", 1, "day"]},
    {"plusTime": ["9999-12-31T23:00:00Z", 1, "hour"]},
    {"dccDateOfBirth": ["9999-12"]},
    {"dccDateOfBirth": ["0000"]},
])
def test_issue14_item9_certlogic_dates_out_of_range(expr: dict[str, Any]) -> None:
    with pytest.raises(RuleError) as info:
        evaluate(expr, {})
    assert info.value.code is ErrorCode.RULE_EVALUATION_FAILED


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:00-01:00"])
def test_issue14_item9_api_times_out_of_range_are_value_errors(at: str) -> None:
    from healthpass.model.time import parse_iso as parse_instant
    from healthpass.trust import TrustList

    when = datetime.fromisoformat(at)
    signer = SoftwareSigner.generate()
    payload = payload_from_json(json.loads((ROOT / "examples" / "credential.json").read_text("utf-8")))
    issuer = Issuer(signer, Region("630000"))
    key = issuer_key(signer.public_key_pem(), region=Region("630000"))
    code = issuer.issue(payload, now=NOW)
    with pytest.raises(ValueError, match="outside the supported range"):
        parse_instant(at)
    with pytest.raises(ValueError, match="outside the supported range"):
        Verifier(keys=[key]).verify(code, at=when)
    with pytest.raises(ValueError, match="outside the supported range"):
        issuer.issue(payload, now=when)
    with pytest.raises(ValueError, match="outside the supported range"):
        TrustList.build(signer, seq=1, keys=[key], valid_for=timedelta(days=1), now=when)
    with pytest.raises(ValueError, match="outside the supported range"):
        RuleBundle.build(signer, EXAMPLE_RULES, seq=1, valid_for=timedelta(days=1), now=when)
    with pytest.raises(ValueError, match="outside the supported range"):
        TrustList.build(signer, seq=1, keys=[key], valid_for=timedelta(days=999_999_999), now=NOW)


@pytest.mark.parametrize("set_at", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z",
                                    "9999-12-31T23:59:00Z", "2100-01-01T00:01:00Z", "1969-12-31T23:59:00Z"])
def test_issue14_item9_hp1_payload_times_at_the_limits(set_at: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The issuer refuses a time the code cannot carry (credential_invalid), instead of minting a code that
    every verifier refuses."""
    credential = tmp_path / "c.json"
    credential.write_text(json.dumps({"status": {"colour": "green", "set_at": set_at, "reason": "routine"}}))
    signer = tmp_path / "k.key.pem"
    signer.write_bytes(SoftwareSigner.generate().private_key_pem())
    code, out, err = run(capsys, "mint", "--key", str(signer), "--issuer", "630000", "--in", str(credential))
    assert code == 1 and out == "" and "credential_invalid" in err and "Traceback" not in err


def _eu_dcc_with(**test: Any) -> dict[str, Any]:
    entry = {"tg": "840539006", "tt": "LP6464-4", "nm": "x", "ma": "1232", "sc": "2021-05-29T19:21:13+02:00",
             "tr": "260415000", "tc": "Test centre", "co": "DE", "is": "RKI",
             "ci": "URN:UVCI:01DE/IZ12345A/5CWLU12RNOB9RXSEOP6FG8#W"}
    entry.update(test)
    return {"ver": "1.3.0", "nam": {"fn": "Muster", "fnt": "MUSTER"}, "dob": "1964-08-12", "t": [entry]}


@pytest.mark.parametrize(("field", "value"), [
    ("sc", "9999-12-31T23:59:59-01:00"), ("sc", "0001-01-01T00:00:00+01:00"), ("sc", "9999-12-31T23:59:59Z"),
    ("sc", "0001-01-01T00:00:00Z"), ("dob", "9999-12-31"), ("dob", "0001-01-01"), ("dob", "9999"),
])
def test_issue14_item9_eu_dcc_dates_at_the_limits(field: str, value: str) -> None:
    from healthpass.codec import b45encode, compress
    from healthpass.codec.cbor import encode
    from healthpass.errors import HealthPassError

    dsc = SoftwareSigner.generate()
    dcc = _eu_dcc_with(**({field: value} if field == "sc" else {}))
    if field == "dob":
        dcc["dob"] = value
    iat = int(NOW.timestamp()) - 3600
    text = "HC1:" + b45encode(compress(cose.sign1(dsc, encode({1: "DE", 4: iat + 86400, 6: iat, -260: {1: dcc}}))))
    verifier = Verifier(keys=[issuer_key(dsc.public_key_pem(), source="dsc")])
    try:
        credential = verifier.verify(text, at=NOW)
    except HealthPassError as err:
        assert err.code in {ErrorCode.SCHEMA_INVALID, ErrorCode.CLAIMS_INVALID}
    else:  # accepted with a warning that the certificate cannot be normalised, or normalised
        assert credential.dcc is not None


# ---------------------------------------------------------------------------------------------------
# Item 10: untrusted text in text output can neither start a line nor drive the terminal
# ---------------------------------------------------------------------------------------------------

from healthpass.model.text import escape_json, escape_text  # noqa: E402

#: newline, CR, ESC (CSI clear screen), C1 CSI, DEL, line/paragraph separators, bidi override and isolate,
#: zero-width joiner, a language tag (beyond the BMP)
HOSTILE_TEXT = ("DE\n2: VALID HP1 issuer 110000 kid 0011223344556677", "DE\r\x1b[2J\x1b]0;owned\x07", "DE\x9b31m",
                "DE\x7f\x00", "DE\u2028\u2029", "DE\u202eLIAF", "DE\u2066x\u2069", "DE\u200d", "DE\U000e0001")


def _clean(output: str) -> bool:
    """Every line is printable: no control, format or separator character (tabs excepted: none printed)."""
    return all(line.isprintable() for line in output.split("\n"))


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_issue14_item10_escape_text(text: str) -> None:
    escaped = escape_text(text)
    assert escaped.isprintable() and "\n" not in escaped and "\x1b" not in escaped
    assert escape_text("青海省 Zoë O'Brien-Smith 110000") == "青海省 Zoë O'Brien-Smith 110000"  # printable: unchanged
    assert escape_text("a\\nb") == "a\\\\nb"  # a literal backslash is doubled: the escaped form is unambiguous
    assert escape_text(text.replace("\\", "")) != escape_text(text.replace("\\", "") + "\\")
    assert json.loads(escape_json(json.dumps(text, ensure_ascii=False))) == text  # same JSON value
    assert escape_json(json.dumps(text, ensure_ascii=False)).isprintable()


def _hc1(signer: SoftwareSigner, iss: str) -> str:
    from healthpass.codec import b45encode, compress
    from healthpass.codec.cbor import encode

    dcc = _eu_dcc_with()
    iat = int(NOW.timestamp()) - 3600
    claims = {1: iss, 4: iat + 86400, 6: iat, -260: {1: dcc}}
    return "HC1:" + b45encode(compress(cose.sign1(signer, encode(claims))))


@pytest.fixture
def hostile_hc1(tmp_path: Path) -> tuple[Path, list[str]]:
    """A trusted DSC (its PEM file) and one signed HC1 code per hostile issuer text."""
    dsc = SoftwareSigner.generate()
    pem = tmp_path / "dsc.pem"
    pem.write_bytes(dsc.public_key_pem())
    return pem, [_hc1(dsc, iss) for iss in HOSTILE_TEXT]


def test_issue14_item10_verify_batch_cannot_forge_a_line(hostile_hc1: tuple[Path, list[str]], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    pem, codes = hostile_hc1
    batch = tmp_path / "codes.txt"
    batch.write_text("\n".join(codes) + "\n", encoding="utf-8")
    at = (NOW + timedelta(minutes=1)).isoformat()
    code, out, err = run(capsys, "verify", "--dsc", str(pem), "--at", at, "--batch", str(batch), "--workers", "1")
    lines = out.splitlines()
    assert code == 0 and len(lines) == len(codes), out
    assert all(line.startswith(f"{n}: VALID HC1 issuer DE") for n, line in enumerate(lines, start=1))
    assert _clean(out) and _clean(err)
    assert "\\n2: VALID HP1 issuer 110000" in lines[0]  # shown, escaped, on its own line
    code, out, _ = run(capsys, "verify", "--dsc", str(pem), "--at", at, "--batch", str(batch), "--workers", "1",
                       "--json")
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["issuer"] for r in results] == list(HOSTILE_TEXT) and _clean(out)


def test_issue14_item10_verify_decode_and_errors(hostile_hc1: tuple[Path, list[str]],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    pem, codes = hostile_hc1
    at = (NOW + timedelta(minutes=1)).isoformat()
    for text in codes:
        for argv in (["verify", "--dsc", str(pem), "--at", at, text],
                     ["verify", "--dsc", str(pem), "--at", at, "--json", text],
                     ["decode", text]):
            code, out, err = run(capsys, *argv)
            assert code == 0 and _clean(out) and _clean(err), argv
        code, out, err = run(capsys, "verify", "--dsc", str(pem), "--at", (NOW + timedelta(days=9)).isoformat(), text)
        assert code == 1 and _clean(err) and "expired" in err


def test_issue14_item10_error_messages_quoting_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "k.key.pem"
    key.write_bytes(SoftwareSigner.generate().private_key_pem())
    people = tmp_path / "people.jsonl"
    people.write_text(json.dumps({"holder": {"name\n2: forged\x1b[2J": "x"}}) + "\n" + json.dumps(
        {"status": {"colour": "green\u202e", "set_at": "2026-11-25T00:00:00Z", "reason": "routine"}}) + "\n")
    code, _, err = run(capsys, "mint", "--key", str(key), "--issuer", "630000", "--batch", str(people),
                       "--out", str(tmp_path / "codes.txt"))
    assert code == 1 and _clean(err)
    assert [line[:7] for line in err.splitlines()] == ["line 1:", "line 2:"]
    code, _, err = run(capsys, "verify", "--trust-key", f"63\u202e0000\n={key}", "HP1:X")
    assert code == 2 and _clean(err)


def test_issue14_item10_rules_output(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, rules)
    test = rules / "HP-STATUS-0001" / "tests" / "test001.json"
    case = json.loads(test.read_text("utf-8"))
    case.update(name="green\n1 passed, 0 failed\x1b[2J\u2028", expected=False)  # fails: its name is shown
    test.write_text(json.dumps(case), "utf-8")
    (rules / "HP-STATUS-0001" / "tests" / "test\x1b[31m.json").write_text(json.dumps(case), "utf-8")
    code, out, err = run(capsys, "rules", "test", str(rules))
    assert code == 1 and _clean(out) and _clean(err) and out.count("\n") == 1
    bundle = tmp_path / "rules.bundle"
    bundle.write_bytes(_seal_directory(SoftwareSigner.generate(), rules))
    code, out, err = run(capsys, "rules", "test", str(bundle))
    assert code == 1 and _clean(out) and _clean(err) and out.count("\n") == 1
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"logic": {"var": "x"}, "data": {"x": HOSTILE_TEXT[1]}})
                                                 + "\n" + json.dumps({"logic": {"var": "\u2028\x9b"}}) + "\n"))
    code, out, _ = run(capsys, "rules", "eval")
    assert code == 0 and _clean(out) and json.loads(out.splitlines()[0]) == {"result": HOSTILE_TEXT[1]}


def test_issue14_item10_scanned_text_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import segno

    path = tmp_path / "hostile.png"
    segno.make_qr("HC1:X\n2: VALID\x1b[2J", mode="byte").save(str(path), scale=4)
    for reader in ("zxing", "pyzbar"):  # zxing-cpp shows controls as <LF>, <ESC>; zbar returns them raw
        try:
            text = qr.scan(path, reader=reader)  # type: ignore[arg-type]
        except ImportError:
            continue
        assert text.startswith("HC1:X") and "VALID" in text
    code, out, _ = run(capsys, "scan", str(path))
    assert code == 0 and out.count("\n") == 1 and _clean(out) and out.startswith("HC1:X")


def test_issue14_item10_cli_prints_only_escaped_text() -> None:
    """Every ``print`` of the CLI prints escaped text (``_say``/``_lines``), JSON made by ``_dumps``, the card
    (whose renderer strips the same characters) or a kid in hex: a new command cannot bypass the escaping."""
    import ast

    tree = ast.Module(body=[node for path in sorted((ROOT / "src" / "healthpass" / "cli").glob("*.py"))
                            for node in ast.parse(path.read_text("utf-8")).body], type_ignores=[])
    allowed = {"escape_text", "_dumps", "_human", "render_terminal", "_lines", "hex"}
    offenders = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            called = {n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", "")
                      for arg in node.args for n in ast.walk(arg) if isinstance(n, ast.Call)}
            if not called & allowed:
                offenders.append(node.lineno)
    assert offenders == [], f"the CLI (cli/) prints unescaped text on lines {offenders}: use _say"
    assert "def _say(" in ast.unparse(tree)
