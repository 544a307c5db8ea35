"""The ``healthpass status`` commands and the status flags of ``mint`` and ``verify``, end to end on a real
SQLite registry (issue 17's command line, exactly as spelt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._run import SAMPLE, run


@pytest.fixture()
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert run(capsys, "keygen", "--alg", "ES256", "--out", str(tmp_path / "qh"))[0] == 0
    code, out, err = run(capsys, "status", "new", "--registry", str(tmp_path / "reg.db"), "--uri", "hp:630000:3")
    assert code == 0, err
    assert "131072 entries of 2 bits" in out
    return tmp_path


def _mint(capsys, d: Path) -> str:
    code, out, err = run(capsys, "mint", "--key", str(d / "qh.key.pem"), "--issuer", "630000", "--in", SAMPLE,
                         "--registry", str(d / "reg.db"), "--status-uri", "hp:630000:3")
    assert code == 0, err
    return out.strip()


def _publish(capsys, d: Path, out: str = "list.cwt", *extra: str) -> Path:
    code, _, err = run(capsys, "status", "publish", "--registry", str(d / "reg.db"), "--uri", "hp:630000:3",
                          "--key", str(d / "qh.key.pem"), "--valid-for", "1d", "--ttl", "6h", "--out",
                          str(d / out), *extra)
    assert code == 0, err
    return d / out


def _verify(capsys, d: Path, text: str, *extra: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, "verify", "--trust-key", f"630000={d / 'qh.pub.pem'}", "--json", *extra, text)
    return code, json.loads(out)


def test_issue17_item4_mint_set_publish_verify(setup: Path, capsys) -> None:
    d = setup
    first, second = _mint(capsys, d), _mint(capsys, d)
    code, result = _verify(capsys, d, first)
    assert code == 0 and result["warnings"] == ["status_unchecked"]
    assert result["credential_status"]["uri"] == "hp:630000:3" and result["credential_status"]["value"] is None
    code, result = _verify(capsys, d, first, "--require-status")
    assert code == 1 and result["error"]["code"] == "status_unavailable"

    code, out, err = run(capsys, "status", "set", "--registry", str(d / "reg.db"), "--code", second, "--to",
                         "revoked")
    assert code == 0, err
    assert "valid -> revoked" in out
    listed = _publish(capsys, d)
    code, result = _verify(capsys, d, first, "--status-list", str(listed), "--require-status")
    assert code == 0 and result["credential_status"]["value"] == "valid", result
    code, result = _verify(capsys, d, second, "--status-list", str(listed))
    assert code == 1 and result["error"] == {"code": "revoked", "stage": "status",
                                             "message": result["error"]["message"]}
    assert result["credential_status"]["value"] == "revoked"  # the entry checked, beside the error

    # by credential id: suspend the first, then a delta on the published list carries it
    cti = result_cti = _verify(capsys, d, first)[1]["credential_id"]
    assert result_cti
    code, out, err = run(capsys, "status", "set", "--registry", str(d / "reg.db"), "--credential-id", cti, "--to",
                         "suspended")
    assert code == 0, err
    code, out, err = run(capsys, "status", "delta", "--registry", str(d / "reg.db"), "--uri", "hp:630000:3",
                         "--base", str(listed), "--key", str(d / "qh.key.pem"), "--valid-for", "1d", "--out",
                         str(d / "delta.cwt"))
    assert code == 0, err
    assert "1 changes" in out
    code, result = _verify(capsys, d, first, "--status-list", str(listed), "--status-delta", str(d / "delta.cwt"))
    assert code == 1 and result["error"]["code"] == "suspended"

    # status show: verified with the key, unverified without, exit 1 when it does not verify
    code, out, _ = run(capsys, "status", "show", str(listed), "--trust-key", f"630000={d / 'qh.pub.pem'}")
    assert code == 0 and out.startswith("VERIFIED") and "1 revoked" in out
    code, out, _ = run(capsys, "status", "show", str(d / "delta.cwt"), "--trust-key", f"630000={d / 'qh.pub.pem'}")
    assert code == 0 and "1 changes (1 suspended)" in out
    code, out, _ = run(capsys, "status", "show", str(listed))
    assert code == 0 and out.startswith("UNVERIFIED")
    assert run(capsys, "keygen", "--alg", "ES256", "--out", str(d / "other"))[0] == 0
    code, _, err = run(capsys, "status", "show", str(listed), "--trust-key", f"630000={d / 'other.pub.pem'}")
    assert code == 1 and "status_list_invalid" in err
    code, _, err = run(capsys, "status", "show", str(listed), "--trust-key", f"110000={d / 'qh.pub.pem'}")
    assert code == 0  # verified; the region scope is judged per code at verification
    bad = d / "bad.cwt"
    bad.write_bytes(listed.read_bytes()[:-3])
    assert run(capsys, "status", "show", str(bad))[0] == 1

    # the human form shows the status
    code, out, _ = run(capsys, "verify", "--trust-key", f"630000={d / 'qh.pub.pem'}", "--status-list", str(listed),
                       first)
    assert code == 0 and "status valid (list hp:630000:3" in out


def test_issue17_item4_batch_mint_allocates_distinct_indices(setup: Path, capsys) -> None:
    d = setup
    people = d / "people.jsonl"
    line = json.dumps(json.loads(Path(SAMPLE).read_text("utf-8")))
    people.write_text("\n".join([line] * 40 + ["{not json"] + [line] * 9) + "\n", "utf-8")
    code, _, err = run(capsys, "mint", "--key", str(d / "qh.key.pem"), "--issuer", "630000", "--batch", str(people),
                       "--out", str(d / "codes.txt"), "--registry", str(d / "reg.db"), "--status-uri", "hp:630000:3")
    assert code == 1 and "line 41" in err
    codes = [c for c in (d / "codes.txt").read_text().splitlines() if c]
    assert len(codes) == 49
    idx = [_verify(capsys, d, c)[1]["credential_status"]["idx"] for c in codes[:12]]
    assert len(set(idx)) == 12 and idx != sorted(idx)


def test_issue17_item4_usage_errors(setup: Path, capsys) -> None:
    d = setup
    code, _, err = run(capsys, "mint", "--key", str(d / "qh.key.pem"), "--issuer", "630000", "--in", SAMPLE,
                       "--registry", str(d / "reg.db"))
    assert code == 2 and "go together" in err
    code, _, err = run(capsys, "mint", "--key", str(d / "qh.key.pem"), "--issuer", "630000", "--in", SAMPLE,
                       "--registry", str(d / "reg.db"), "--status-uri", "hp:630000:404")
    assert code == 1 and "registry_error" in err
    code, _, err = run(capsys, "status", "new", "--registry", str(d / "reg.db"), "--uri", "hp:630000:3")
    assert code == 1 and "already exists" in err
    code, _, err = run(capsys, "status", "new", "--registry", str(d / "reg.db"), "--uri", "hp:1", "--size", "1024")
    assert code == 0 and "herd privacy" in err
    assert run(capsys, "status", "set", "--registry", str(d / "reg.db"), "--credential-id", "00", "--to",
               "lost")[0] == 2
    code, _, err = run(capsys, "status", "set", "--registry", str(d / "reg.db"), "--credential-id", "0011",
                       "--to", "revoked")
    assert code == 1 and "registry_error" in err
    code, _, err = run(capsys, "status", "publish", "--registry", str(d / "reg.db"), "--uri", "hp:630000:3",
                       "--valid-for", "1d", "--out", str(d / "x"))
    assert code == 2 and "--key" in err


def test_issue17_item4_publish_twice_and_a_foreign_base(setup: Path, capsys) -> None:
    d = setup
    _mint(capsys, d)
    one = _publish(capsys, d, "one.cwt")
    two = _publish(capsys, d, "two.cwt")
    assert one.read_bytes() != two.read_bytes()  # iat strictly increases, even within one second
    foreign = d / "foreign.db"
    assert run(capsys, "status", "new", "--registry", str(foreign), "--uri", "hp:630000:3")[0] == 0
    code, _, err = run(capsys, "status", "delta", "--registry", str(foreign), "--uri", "hp:630000:3", "--base",
                       str(one), "--key", str(d / "qh.key.pem"), "--valid-for", "1d", "--out", str(d / "d.cwt"))
    assert code == 1 and "not a publication" in err


def test_issue17_item4_show_through_a_trust_list_and_cli_rollback(setup: Path, capsys) -> None:
    d = setup
    assert run(capsys, "keygen", "--alg", "EdDSA", "--out", str(d / "root"))[0] == 0
    tl = d / "trust.cbor"
    code, _, err = run(capsys, "trust", "build", "--root-key", str(d / "root.key.pem"), "--seq", "1", "--valid-for",
                       "7d", "--issuer-key", f"630000={d / 'qh.pub.pem'}", "--out", str(tl))
    assert code == 0, err
    text = _mint(capsys, d)
    old = _publish(capsys, d, "old.cwt")
    new = _publish(capsys, d, "new.cwt")
    trust = ["--root", str(d / "root.pub.pem"), "--trust-list", str(tl)]
    code, out, err = run(capsys, "status", "show", str(new), *trust)
    assert code == 0 and out.startswith("VERIFIED"), err
    # a key listed without the status_list kind may not sign status lists
    tl2 = d / "trust2.cbor"
    assert run(capsys, "trust", "build", "--root-key", str(d / "root.key.pem"), "--seq", "2", "--valid-for", "7d",
               "--issuer-key", f"630000={d / 'qh.pub.pem'}:kinds=status,naat", "--out", str(tl2))[0] == 0
    code, _, err = run(capsys, "status", "show", str(new), "--root", str(d / "root.pub.pem"), "--trust-list",
                       str(tl2))
    assert code == 1 and "may not sign status lists" in err
    state = ["--state", str(d / "state")]
    code, out, _ = run(capsys, "verify", *trust, *state, "--status-list", str(new), "--json", text)
    assert code == 0 and json.loads(out)["credential_status"]["value"] == "valid"
    code, out, _ = run(capsys, "verify", *trust, *state, "--status-list", str(old), "--json", text)
    assert code == 1 and json.loads(out)["error"]["code"] == "status_list_rollback"
