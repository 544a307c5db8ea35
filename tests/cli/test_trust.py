"""``healthpass trust build`` and ``trust show`` (cli/trust.py), and verifying through the lists they build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._run import mint, run


def test_trust_build_show_and_verify(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "keygen", "--alg", "ES256", "--out", str(tmp_path / "root"))
    run(capsys, "keygen", "--alg", "EdDSA", "--out", str(tmp_path / "bj"))
    tl = tmp_path / "list.cbor"
    code, out, err = run(capsys, "trust", "build", "--root-key", str(tmp_path / "root.key.pem"), "--seq", "3",
                         "--valid-for", "7d", "--issuer-key", f"630000={keys / 'qh.pub.pem'}:kinds=status,naat",
                         "--issuer-key", f"CN-BJ={tmp_path / 'bj.pub.pem'}:from=2020-01-01T00:00:00Z",
                         "--out", str(tl))
    assert code == 0, err
    code, out, _ = run(capsys, "trust", "show", str(tl), "--root", str(tmp_path / "root.pub.pem"))
    assert code == 0 and "seq 3" in out and "630000" in out and "naat,status" in out
    code, out, _ = run(capsys, "trust", "show", str(tl), "--root", str(keys / "qh.pub.pem"))
    assert code == 1
    text = mint(capsys, keys)
    code, out, err = run(capsys, "verify", "--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(tl),
                         "--json", text)
    obj = json.loads(out)
    assert code == 1 and obj["error"]["code"] == "usage_not_allowed"
    code, out, err = run(capsys, "verify", "--root", f"{tmp_path / 'root.pub.pem'}:regions=110000",
                         "--trust-list", str(tl), "--json", text)
    assert code == 1 and "trust_list_invalid" in err


def test_trust_build_from_manifest(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "keygen", "--alg", "ES256", "--out", str(tmp_path / "root"))
    run(capsys, "keygen", "--alg", "EdDSA", "--out", str(tmp_path / "zj"))
    manifest = tmp_path / "manifest.json"
    entries = [
        {"region": "630000", "public_key": str(keys / "qh.pub.pem")},
        {"region": "CN-ZJ", "public_key": str(tmp_path / "zj.pub.pem"), "status": "retired",
         "retired_at": "2026-01-01T00:00:00Z"},
    ]
    # a list holds each key once (its kid is the entry's key in the list): the same key twice is refused
    manifest.write_text(json.dumps({"seq": 9, "valid_for": "30d", "keys": [*entries, {**entries[0],
                                                                                      "region": "110000"}]}))
    tl = tmp_path / "list.cbor"
    code, _, err = run(capsys, "trust", "build", "--root-key", str(tmp_path / "root.key.pem"),
                       "--manifest", str(manifest), "--out", str(tl))
    assert code == 2 and "keys[2]: the same key as keys[0]" in err and not tl.exists()
    manifest.write_text(json.dumps({"seq": 9, "valid_for": "30d", "keys": entries}))
    code, _, err = run(capsys, "trust", "build", "--root-key", str(tmp_path / "root.key.pem"),
                       "--manifest", str(manifest), "--issuer-key", f"110000={tmp_path / 'zj.pub.pem'}",
                       "--out", str(tl))
    assert code == 2 and "listed twice" in err and "Traceback" not in err and not tl.exists()
    code, _, err = run(capsys, "trust", "build", "--root-key", str(tmp_path / "root.key.pem"),
                       "--manifest", str(manifest), "--out", str(tl))
    assert code == 0, err
    code, out, _ = run(capsys, "trust", "show", str(tl))
    assert code == 0 and out.startswith("UNVERIFIED") and "retired" in out and "seq 9" in out
    text = mint(capsys, keys)
    code, out, _ = run(capsys, "verify", "--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(tl),
                       "--state", str(tmp_path / "state"), "--json", text)
    assert code == 0 and json.loads(out)["valid"] is True


def test_trust_show_checks_every_entry(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A list whose root signed one malformed entry: verifiers use the rest of it (the entry is checked on
    first use), while ``trust show`` runs the full check and refuses it, verified or not."""
    import cbor2

    from healthpass.codec.cbor import encode
    from healthpass.cose import seal_document
    from healthpass.crypto import kid_for
    from healthpass.signers import SoftwareSigner

    run(capsys, "keygen", "--alg", "EdDSA", "--out", str(tmp_path / "root"))
    root = SoftwareSigner.from_pem((tmp_path / "root.key.pem").read_bytes())
    qh_der = SoftwareSigner.from_pem((keys / "qh.key.pem").read_bytes()).public_key_der
    stranger = SoftwareSigner.generate().public_key_der
    body = {kid_for(qh_der): encode({2: qh_der, 4: 630000, 5: [1, 2, 3, 4, 5], 8: 1}),
            kid_for(stranger): encode({2: qh_der, 4: 630000, 5: [1], 8: 1})}  # the kid of another key
    payload = encode({1: 1, 2: 5, 3: 1_700_000_000, 4: 4_000_000_000, 5: body})
    tl = tmp_path / "list.cbor"
    tl.write_bytes(seal_document(root, "application/healthpass-trust-list+cbor", payload))
    assert cbor2.loads(tl.read_bytes()).tag == 18
    code, out, err = run(capsys, "verify", "--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(tl),
                         "--json", mint(capsys, keys))
    assert code == 0 and json.loads(out)["valid"] is True, err
    for extra in (["--root", str(tmp_path / "root.pub.pem")], []):
        code, out, err = run(capsys, "trust", "show", str(tl), *extra)
        assert code == 1 and "trust_list_invalid" in err and kid_for(stranger).hex() in err and out == ""
        assert "Traceback" not in err
