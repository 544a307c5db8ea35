"""Issue 15, item 2: healthpass works on the current releases of its dependencies (cbor2 5.x and 6.x alike), and
CI's two extra environments (newest and oldest allowed versions) stay what ``pyproject.toml`` declares.

cbor2 6 decodes the content of every tag immutably (arrays as tuples, maps as ``frozendict``); the generic
decoder refused every tagged message it reached there: big trust lists, EU codes wrapped in tag 61 or with
non-preferred length heads. These tests run in every CI environment, so each cbor2 release CI installs is
held to the same results.
"""

from __future__ import annotations

import re
import tomllib
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest

from healthpass.codec import Prefix, b45encode
from healthpass.codec.cbor import CborLimits, Tagged, decode
from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.regions import Region
from healthpass.signers import SoftwareSigner
from healthpass.trust import TrustList, issuer_key, trust_root

from .conftest import NOW
from .test_eu_dcc import NOW as EU_NOW
from .test_eu_dcc import VACCINATION, make_code, make_dsc, verify

ROOT = Path(__file__).resolve().parents[1]


def _types(value: Any) -> set[type]:
    found = {type(value)}
    if isinstance(value, Tagged):
        found |= _types(value.value)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= _types(item)
    elif isinstance(value, dict) or type(value).__name__.lower() == "frozendict":
        for item in value.values():
            found |= _types(item)
    return found


@pytest.mark.parametrize("deterministic", [True, False], ids=["typed", "lenient"])
def test_issue15_item2_tagged_content_decodes_to_lists_and_dicts(deterministic: bool) -> None:
    data = cbor2.dumps(cbor2.CBORTag(18, [b"\xa1\x01\x26", {4: b"k", 9: [1, {2: [3]}]}, b"p", b"s"]),
                       canonical=True)
    value = decode(data, what="test", deterministic=deterministic, limits=CborLimits(), allowed_tags=frozenset({18}),
                   typed=deterministic)
    assert isinstance(value, Tagged) and value.tag == 18
    assert value.value == [b"\xa1\x01\x26", {4: b"k", 9: [1, {2: [3]}]}, b"p", b"s"]
    assert _types(value) <= {Tagged, list, dict, bytes, int}, _types(value)


def test_issue15_item2_typed_tagged_content_is_depth_bounded() -> None:
    deep: Any = 0
    for _ in range(40):
        deep = [deep]
    data = cbor2.dumps(cbor2.CBORTag(18, deep))
    with pytest.raises(DecodeError) as info:
        decode(data, what="test", deterministic=True, limits=CborLimits(max_depth=16), allowed_tags=frozenset({18}),
               typed=True)
    assert (info.value.code, info.value.stage) == (ErrorCode.CBOR_INVALID, Stage.CBOR)


def test_issue15_item2_trust_list_of_1000_keys_loads() -> None:
    """Over 64 KiB, so the payload's head takes 4 length bytes: the generic decoder reads the list."""
    root = SoftwareSigner.generate()
    signers = [SoftwareSigner.generate() for _ in range(1000)]
    keys = [issuer_key(s.public_key_pem(), region=Region("630000")) for s in signers]
    data = TrustList.build(root, seq=1, keys=keys, valid_for=timedelta(days=7), now=NOW)
    assert len(data) > 0x10000
    loaded = TrustList.load(data, [trust_root(root.public_key_pem())], check_all=True)
    assert len(loaded.keys) == 1000


@pytest.mark.parametrize("tags", [(61, 18), (18,), ()], ids=["tag61", "tag18", "untagged"])
def test_issue15_item2_eu_code_shapes_verify(tags: tuple[int, ...]) -> None:
    dsc = make_dsc()
    assert verify(make_code(dsc, tags=tags), dsc.issuer_key(), at=EU_NOW).dcc == VACCINATION


def test_issue15_item2_eu_code_with_non_preferred_length_heads_verifies() -> None:
    """Tag 18, an array head with a one-byte length and byte-string heads one size too long: valid CBOR that
    some issuers wrote; the signature covers the protected header bytes as received."""
    dsc = make_dsc()
    protected = cbor2.dumps({1: dsc.alg, 4: dsc.kid})
    payload = cbor2.dumps({1: "AT", 6: int(EU_NOW.timestamp()) - 86400, 4: int(EU_NOW.timestamp()) + 86400,
                           -260: {1: VACCINATION}})
    signature = dsc.sign(cbor2.dumps(["Signature1", protected, b"", payload]))

    def long_bstr(data: bytes) -> bytes:  # a 4-byte length head, whatever the length
        return b"\x5a" + len(data).to_bytes(4, "big") + data

    message = b"\xd2\x98\x04" + long_bstr(protected) + b"\xa0" + long_bstr(payload) + long_bstr(signature)
    code = Prefix.HC1.value + b45encode(zlib.compress(message))
    assert verify(code, dsc.issuer_key(), at=EU_NOW).dcc == VACCINATION
    wrapped = Prefix.HC1.value + b45encode(zlib.compress(b"\xd8\x3d" + message))
    assert verify(wrapped, dsc.issuer_key(), at=EU_NOW).dcc == VACCINATION


# -- the CI environments --------------------------------------------------------------------------------------


def _requirements() -> dict[str, str]:
    """Lower bounds of every runtime requirement: the core and the extras ``all`` pulls in (the environments CI
    installs ``.[all]``): name -> version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    extras = project["optional-dependencies"]
    lines, todo, seen = list(project["dependencies"]), ["all"], set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for item in extras[extra]:
            nested = re.fullmatch(r"healthpass\[([^\]]*)\]", item)
            if nested:
                todo += [e.strip() for e in nested.group(1).split(",")]
            else:
                lines.append(item)
    bounds = {}
    for line in lines:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][0-9.]*)\s*(?:,\s*<\s*[0-9.]+)?", line)
        assert match is not None, f"every runtime requirement has a lower bound (>=): {line!r}"
        name, version = match.group(1).lower(), match.group(2)
        assert bounds.get(name, version) == version, f"{name} has two lower bounds"
        bounds[name] = version
    return bounds


def _release(version: str) -> tuple[int, ...]:
    """``"44"``, ``"44.0"`` and ``"44.0.0"`` alike, as comparable numbers (suffixes such as ``.post1`` dropped)."""
    parts = [int(p) for p in re.findall(r"(?:^|\.)(\d+)", version.split("post", maxsplit=1)[0])]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for raw in (ROOT / "ci" / name).read_text("utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            package, _, version = line.partition("==")
            pins[package.strip().lower()] = version.strip()
    return pins


def test_issue15_item2_oldest_constraints_pin_the_declared_lower_bounds() -> None:
    """ci/constraints-oldest.txt pins each runtime requirement exactly at its ``>=`` bound in pyproject.toml:
    a raised bound is tested at once, and no pin drifts from what the package declares."""
    pins = _pins("constraints-oldest.txt")
    for name, version in _requirements().items():
        assert _release(pins.get(name, "")) == _release(version), \
            f"{name}: pyproject says >={version}, ci/constraints-oldest.txt pins {pins.get(name)}"


def test_issue15_item2_newest_constraints_cover_every_runtime_requirement() -> None:
    """ci/constraints-newest.txt (regenerated by scripts/test.sh) lists each runtime requirement at a version
    within its declared bounds."""
    pins = _pins("constraints-newest.txt")
    for name, lower in _requirements().items():
        assert name in pins, f"{name} missing from ci/constraints-newest.txt"
        assert _release(pins[name]) >= _release(lower), f"{name} {pins[name]} is below its bound >={lower}"
