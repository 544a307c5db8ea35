"""Software signers: loading keys, and the exceptions each loader documents."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from healthpass import SignerError, SoftwareSigner
from healthpass.errors import ErrorCode, HealthPassError, Stage
from healthpass.model.cose import Algorithm


def test_issue15_item7_from_file_missing_raises_signer_error(tmp_path: Path) -> None:
    with pytest.raises(SignerError) as info:
        SoftwareSigner.from_file(tmp_path / "missing.pem")
    assert info.value.code is ErrorCode.SIGNER_UNAVAILABLE and info.value.stage is Stage.SIGNER
    assert "missing.pem" in str(info.value) and "No such file" in str(info.value)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    with pytest.raises(SignerError, match="Is a directory"):  # a sibling: a path that is no file
        SoftwareSigner.from_file(str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_issue15_item7_from_file_unreadable_raises_signer_error(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    key.write_bytes(SoftwareSigner.generate().private_key_pem())
    key.chmod(0)
    with pytest.raises(SignerError, match="Permission denied"):
        SoftwareSigner.from_file(key)


def test_issue15_item7_from_file_reads_a_real_key(tmp_path: Path) -> None:
    signer = SoftwareSigner.generate(Algorithm.EDDSA)
    (tmp_path / "k.pem").write_bytes(signer.private_key_pem(b"pw"))
    assert SoftwareSigner.from_file(tmp_path / "k.pem", b"pw").kid == signer.kid
    with pytest.raises(SignerError):  # wrong password: the documented SignerError too
        SoftwareSigner.from_file(tmp_path / "k.pem", b"wrong")
    with pytest.raises(SignerError):  # missing password
        SoftwareSigner.from_file(tmp_path / "k.pem")


def test_issue15_item7_misuse_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        SoftwareSigner.from_pem("-----BEGIN PRIVATE KEY-----")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SoftwareSigner.from_pem(SoftwareSigner.generate().private_key_pem(), "pw")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SoftwareSigner.from_file(b"k.pem")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ES256 or EdDSA"):
        SoftwareSigner.generate(Algorithm.PS256)


def test_issue15_item9_public_key_where_a_private_key_is_expected() -> None:
    signer = SoftwareSigner.generate()
    with pytest.raises(SignerError, match="this is a public key or certificate, not a private key"):
        SoftwareSigner.from_pem(signer.public_key_pem())
    with pytest.raises(SignerError, match="not a valid PEM private key"):  # plain garbage keeps its message
        SoftwareSigner.from_pem(b"garbage")


@pytest.mark.parametrize("form", ["pem", "pem-encrypted", "der", "der-encrypted"])
def test_issue15_item9_private_key_where_a_public_key_is_expected(form: str) -> None:
    from healthpass import issuer_key, trust_root

    key = serialization.load_pem_private_key(SoftwareSigner.generate().private_key_pem(), None)
    encryption = (serialization.BestAvailableEncryption(b"pw") if form.endswith("encrypted")
                  else serialization.NoEncryption())
    encoding = serialization.Encoding.PEM if form.startswith("pem") else serialization.Encoding.DER
    data = key.private_bytes(encoding, serialization.PrivateFormat.PKCS8, encryption)
    for load in (issuer_key, trust_root):
        with pytest.raises(ValueError, match="this is a private key, not a public key") as info:
            load(data)
        assert not isinstance(info.value, HealthPassError)  # misuse by the caller, as documented
