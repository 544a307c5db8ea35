"""Codes stay small: the typical code fits QR version 10 at EC M, the complete sample version 12
(specs/credential.md §8). Sizes, not times: deterministic up to a few characters of zlib variation."""

from __future__ import annotations

from healthpass import Issuer, Region, SoftwareSigner, payload_from_json
from healthpass.model.qr_capacity import ErrorCorrection, version_for_length

from .conftest import NOW


def _typical(sample_json: dict) -> dict:
    holder = {k: v for k, v in sample_json["holder"].items() if k != "nationality"}
    status = {k: v for k, v in sample_json["status"].items() if k != "reason"}
    naat = [{k: v for k, v in sample_json["naat"][0].items() if k in ("sampled_at", "result", "type")}]
    return {"holder": holder, "status": status, "naat": naat, "vaccinations": sample_json["vaccinations"][:1]}


def _lengths(credential: dict, n: int = 12) -> list[int]:
    payload = payload_from_json(credential)
    out = []
    for _ in range(n):  # fresh keys, signatures and credential ids each time
        issuer = Issuer(SoftwareSigner.generate(), Region("630000"), max_qr_version=40)
        out.append(len(issuer.issue(payload, now=NOW)))
    return out


def test_typical_code_fits_version_10(sample_json: dict) -> None:
    lengths = _lengths(_typical(sample_json))
    assert max(version_for_length(n, ErrorCorrection.M) or 41 for n in lengths) <= 10, lengths


def test_complete_sample_fits_version_12(sample_json: dict) -> None:
    lengths = _lengths(sample_json)
    assert max(version_for_length(n, ErrorCorrection.M) or 41 for n in lengths) <= 12, lengths
