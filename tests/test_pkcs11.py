"""PKCS#11 signing against a real SoftHSM2 token: key generation, signing, lookup, errors, sessions, workers.

Every ``softhsm`` test gets a fresh token in a temporary directory (its own ``softhsm2.conf`` through
``SOFTHSM2_CONF``, initialised with ``softhsm2-util``), and skips with a clear message when SoftHSM2 or
python-pkcs11 is not installed (CI installs them: Debian ``softhsm2``).
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import pickle
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from healthpass import crypto
from healthpass.errors import ErrorCode, SignerError, Stage
from healthpass.model.cose import Algorithm
from healthpass.signers import Signer, SoftwareSigner
from healthpass.signers.pkcs11 import Pkcs11Config, Pkcs11Signer, generate_key, parse_key_id, reload_module

_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)
PIN = "4711-user-pin"
SO_PIN = "0815-so-pin"
WRONG_PIN = "31337-wrong-pin"
PIN_ENV = "HEALTHPASS_TEST_PKCS11_PIN"
TOKEN = "test"


def _softhsm_module() -> str | None:
    configured = os.environ.get("SOFTHSM2_MODULE")
    for candidate in (configured, *_MODULE_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _skip_reason() -> str | None:
    if importlib.util.find_spec("pkcs11") is None:
        return "python-pkcs11 is not installed (pip install 'healthpass[pkcs11]')"
    if shutil.which("softhsm2-util") is None:
        return "softhsm2-util not found (apt-get install softhsm2)"
    if _softhsm_module() is None:
        return "libsofthsm2.so not found (apt-get install softhsm2, or set SOFTHSM2_MODULE)"
    return None


@dataclass(frozen=True)
class SoftHsm:
    """A freshly initialised SoftHSM2 token labelled ``test`` with user PIN ``PIN`` (exported as PIN_ENV)."""

    module: str
    directory: Path

    def config(self, key_label: str | None = "key", **overrides: Any) -> Pkcs11Config:
        fields: dict[str, Any] = {"module": self.module, "token_label": TOKEN, "key_label": key_label}
        if "key_id" in overrides:
            fields["key_label"] = None
        if "pin_file" not in overrides:
            fields["pin_env"] = PIN_ENV
        fields.update(overrides)
        return Pkcs11Config(**fields)


@pytest.fixture
def softhsm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SoftHsm]:
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)
    module = _softhsm_module()
    assert module is not None
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    monkeypatch.setenv(PIN_ENV, PIN)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--so-pin", SO_PIN, "--pin", PIN],
        check=True,
        capture_output=True,
    )
    # SoftHSM2 reads SOFTHSM2_CONF and scans its token directory only in C_Initialize: re-initialise the
    # module (loaded once per process) so it sees this test's token and forgets earlier tests' logins.
    reload_module(module)
    yield SoftHsm(module=module, directory=tmp_path)


def _verify(signer: Signer, data: bytes, signature: bytes) -> None:
    key, _, _ = crypto.load_public_key(signer.public_key_der)
    crypto.verify_signature(signer.algorithm, key, data, signature, require_low_s=True)


def _count_opens(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Instrument Pkcs11Signer._open_session (the real one still talks to the real token)."""
    calls: list[int] = []
    original: Callable[..., Any] = Pkcs11Signer._open_session

    def counting(self: Pkcs11Signer) -> Any:
        calls.append(threading.get_ident())
        return original(self)

    monkeypatch.setattr(Pkcs11Signer, "_open_session", counting)
    return calls


# -- configuration (no token needed) ------------------------------------------------------------------


def test_config_requires_exactly_one_key_name_and_pin_source() -> None:
    with pytest.raises(ValueError, match="exactly one of key_label and key_id"):
        Pkcs11Config("lib.so", "t", pin_env="P")
    with pytest.raises(ValueError, match="exactly one of key_label and key_id"):
        Pkcs11Config("lib.so", "t", key_label="k", key_id=b"\x01", pin_env="P")
    with pytest.raises(ValueError, match="exactly one PIN source"):
        Pkcs11Config("lib.so", "t", key_label="k")
    with pytest.raises(ValueError, match="exactly one PIN source"):
        Pkcs11Config("lib.so", "t", key_label="k", pin_env="P", pin_file=Path("pin"))
    config = Pkcs11Config("lib.so", "t", key_id=b"\x0a\x0b", pin_file="pin.txt")  # type: ignore[arg-type]
    assert config.pin_file == Path("pin.txt")
    assert config.key_description == "id 0a0b"
    assert pickle.loads(pickle.dumps(config)) == config


def test_parse_key_id() -> None:
    assert parse_key_id("0a0b") == b"\x0a\x0b"
    assert parse_key_id("0x0A0B") == b"\x0a\x0b"
    assert parse_key_id("0a:0b") == b"\x0a\x0b"
    assert parse_key_id(" 0a 0b ") == b"\x0a\x0b"
    for bad in ("", "0x", "xyz", "abc"):
        with pytest.raises(ValueError):
            parse_key_id(bad)


def test_module_missing_is_signer_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("pkcs11") is None:
        pytest.skip("python-pkcs11 is not installed")
    monkeypatch.setenv(PIN_ENV, PIN)
    config = Pkcs11Config(str(tmp_path / "nope.so"), TOKEN, key_label="key", pin_env=PIN_ENV)
    with pytest.raises(SignerError) as info:
        Pkcs11Signer(config)
    assert info.value.code is ErrorCode.SIGNER_UNAVAILABLE
    assert info.value.stage is Stage.SIGNER
    assert "nope.so" in info.value.message


# -- against SoftHSM2 ----------------------------------------------------------------------------------


@pytest.mark.softhsm
def test_es256_generate_sign_verify(softhsm: SoftHsm) -> None:
    with generate_key(softhsm.config("es256"), Algorithm.ES256) as signer:
        assert isinstance(signer, Signer)
        assert signer.algorithm is Algorithm.ES256
        assert signer.kid == crypto.kid_for(signer.public_key_der)
        assert len(signer.kid) == crypto.KID_LENGTH
        key, _, _ = crypto.load_public_key(signer.public_key_der)
        assert crypto.key_algorithm(key) is Algorithm.ES256
        assert signer.public_key_pem().startswith(b"-----BEGIN PUBLIC KEY-----")
        for i in range(64):  # about half of raw ECDSA signatures are high-s: all must come out low-s
            data = b"sig-structure %d" % i
            signature = signer.sign(data)
            assert len(signature) == 64
            assert crypto.is_low_s(signature)
            _verify(signer, data, signature)
        with pytest.raises(Exception):  # noqa: B017 - a verification failure of any kind
            _verify(signer, b"other data", signature)
        assert "es256" in repr(signer) and signer.kid.hex() in repr(signer)


@pytest.mark.softhsm
def test_eddsa_generate_sign_verify_or_mechanism_unsupported(softhsm: SoftHsm) -> None:
    try:
        signer = generate_key(softhsm.config("ed"), Algorithm.EDDSA)
    except SignerError as err:  # a token without Ed25519 support
        assert err.code is ErrorCode.MECHANISM_UNSUPPORTED
        assert "CKM_EC_EDWARDS_KEY_PAIR_GEN" in err.message or "CKM_EDDSA" in err.message
        assert repr(TOKEN) in err.message
        return
    with signer:
        assert signer.algorithm is Algorithm.EDDSA
        assert signer.kid == crypto.kid_for(signer.public_key_der)
        key, _, _ = crypto.load_public_key(signer.public_key_der)
        assert crypto.key_algorithm(key) is Algorithm.EDDSA
        signature = signer.sign(b"hello")
        assert len(signature) == 64
        _verify(signer, b"hello", signature)


@pytest.mark.softhsm
def test_key_found_by_label_and_by_id(softhsm: SoftHsm) -> None:
    with generate_key(softhsm.config("by-label"), Algorithm.ES256) as generated:
        kid = generated.kid
    # generate_key sets CKA_ID to the kid, so --pkcs11-key-id <kid hex> finds the key too
    with Pkcs11Signer(softhsm.config("by-label")) as by_label:
        assert by_label.kid == kid
        _verify(by_label, b"x", by_label.sign(b"x"))
    with Pkcs11Signer(softhsm.config(key_id=parse_key_id(kid.hex()))) as by_id:
        assert by_id.kid == kid
        assert "id " + kid.hex() in repr(by_id)
        _verify(by_id, b"y", by_id.sign(b"y"))
    # an explicit id given at generation time is kept
    with generate_key(softhsm.config(key_id=b"\x01\x02\x03"), Algorithm.ES256) as explicit:
        explicit_kid = explicit.kid
    with Pkcs11Signer(softhsm.config(key_id=parse_key_id("01:02:03"))) as again:
        assert again.kid == explicit_kid


@pytest.mark.softhsm
def test_imported_software_key_has_the_same_kid(softhsm: SoftHsm) -> None:
    """A key moved into the HSM (softhsm2-util --import) keeps its kid: the trust list need not change."""
    software = SoftwareSigner.generate(Algorithm.ES256)
    pem = softhsm.directory / "key.pem"
    pem.write_bytes(software.private_key_pem())
    command = ["softhsm2-util", "--import", str(pem), "--token", TOKEN, "--label", "imported", "--id", "a1b2"]
    subprocess.run(
        [*command, "--pin", PIN],
        check=True,
        capture_output=True,
    )
    pem.unlink()
    reload_module(softhsm.module)
    with Pkcs11Signer(softhsm.config("imported")) as signer:
        assert signer.public_key_der == software.public_key_der
        assert signer.kid == software.kid
        signature = signer.sign(b"moved")
        _verify(software, b"moved", signature)


@pytest.mark.softhsm
def test_generated_private_key_is_sensitive_and_not_extractable(softhsm: SoftHsm) -> None:
    pkcs11 = pytest.importorskip("pkcs11")
    generate_key(softhsm.config("locked"), Algorithm.ES256).close()
    token = pkcs11.lib(softhsm.module).get_token(token_label=TOKEN)
    with token.open(user_pin=PIN) as session:
        private = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label="locked")
        assert private[pkcs11.Attribute.TOKEN] is True
        assert private[pkcs11.Attribute.SENSITIVE] is True
        assert private[pkcs11.Attribute.EXTRACTABLE] is False
        assert private[pkcs11.Attribute.SIGN] is True
        public = session.get_key(object_class=pkcs11.ObjectClass.PUBLIC_KEY, label="locked")
        assert public[pkcs11.Attribute.TOKEN] is True


@pytest.mark.softhsm
def test_generate_refuses_to_overwrite(softhsm: SoftHsm) -> None:
    generate_key(softhsm.config("taken"), Algorithm.ES256).close()
    with pytest.raises(SignerError) as info:
        generate_key(softhsm.config("taken"), Algorithm.ES256)
    assert info.value.code is ErrorCode.SIGNER_UNAVAILABLE
    assert "'taken'" in info.value.message and "refusing to overwrite" in info.value.message


@pytest.mark.softhsm
def test_wrong_pin_is_pin_incorrect_and_never_shown(softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch) -> None:
    generate_key(softhsm.config("key"), Algorithm.ES256).close()  # closing logs the process out again
    monkeypatch.setenv(PIN_ENV, WRONG_PIN)
    config = softhsm.config("key")
    signer = Pkcs11Signer(config, connect=False)
    with pytest.raises(SignerError) as info:
        signer.sign(b"data")
    err = info.value
    assert err.code is ErrorCode.PIN_INCORRECT
    assert err.stage is Stage.SIGNER
    for text in (str(err), repr(err), err.message, repr(signer), repr(config), repr(err.__cause__)):
        assert WRONG_PIN not in text and PIN not in text
    with pytest.raises(SignerError) as again:
        Pkcs11Signer(config)
    assert again.value.code is ErrorCode.PIN_INCORRECT


@pytest.mark.softhsm
def test_missing_key_is_key_not_found(softhsm: SoftHsm) -> None:
    with pytest.raises(SignerError) as info:
        Pkcs11Signer(softhsm.config("no-such-key"))
    assert info.value.code is ErrorCode.SIGNER_KEY_NOT_FOUND
    assert "'no-such-key'" in info.value.message
    with pytest.raises(SignerError) as by_id:
        Pkcs11Signer(softhsm.config(key_id=b"\xde\xad"))
    assert by_id.value.code is ErrorCode.SIGNER_KEY_NOT_FOUND
    assert "dead" in by_id.value.message


@pytest.mark.softhsm
def test_missing_token_is_signer_unavailable(softhsm: SoftHsm) -> None:
    with pytest.raises(SignerError) as info:
        Pkcs11Signer(softhsm.config("key", token_label="no-such-token"))
    assert info.value.code is ErrorCode.SIGNER_UNAVAILABLE
    assert "'no-such-token'" in info.value.message


@pytest.mark.softhsm
def test_pin_from_env_and_from_file(softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch) -> None:
    generate_key(softhsm.config("key"), Algorithm.ES256).close()
    with Pkcs11Signer(softhsm.config("key")) as from_env:
        _verify(from_env, b"env", from_env.sign(b"env"))
    pin_file = softhsm.directory / "pin.txt"
    pin_file.write_text(PIN + "\n")  # one trailing newline, as `echo` writes it, is not part of the PIN
    monkeypatch.delenv(PIN_ENV)
    with Pkcs11Signer(softhsm.config("key", pin_file=pin_file)) as from_file:
        _verify(from_file, b"file", from_file.sign(b"file"))


@pytest.mark.softhsm
def test_pin_source_missing_is_signer_unavailable(softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PIN_ENV)
    with pytest.raises(SignerError) as unset:
        Pkcs11Signer(softhsm.config("key"))
    assert unset.value.code is ErrorCode.SIGNER_UNAVAILABLE
    assert PIN_ENV in unset.value.message
    missing = softhsm.directory / "absent-pin.txt"
    with pytest.raises(SignerError) as unreadable:
        Pkcs11Signer(softhsm.config("key", pin_file=missing))
    assert unreadable.value.code is ErrorCode.SIGNER_UNAVAILABLE
    assert str(missing) in unreadable.value.message


@pytest.mark.softhsm
def test_many_signatures_reuse_one_session(softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch) -> None:
    generate_key(softhsm.config("key"), Algorithm.ES256).close()
    opened = _count_opens(monkeypatch)
    with Pkcs11Signer(softhsm.config("key")) as signer:
        for i in range(300):
            data = b"code %d" % i
            _verify(signer, data, signer.sign(data))
    assert len(opened) == 1


@pytest.mark.softhsm
def test_concurrent_signing_from_four_threads(softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch) -> None:
    generate_key(softhsm.config("key"), Algorithm.ES256).close()
    opened = _count_opens(monkeypatch)
    signer = Pkcs11Signer(softhsm.config("key"))
    results: dict[int, list[tuple[bytes, bytes]]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(worker: int) -> None:
        try:
            barrier.wait()
            out = []
            for i in range(50):
                data = b"thread %d code %d" % (worker, i)
                out.append((data, signer.sign(data)))
            results[worker] = out
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    signer.close()
    assert not errors
    assert sum(len(batch) for batch in results.values()) == 200
    for batch in results.values():
        for data, signature in batch:
            _verify(signer, data, signature)
    assert len(opened) == 1  # one shared session, not a session per thread or per signature


@pytest.mark.softhsm
def test_closed_signer_refuses_and_context_manager_closes(softhsm: SoftHsm) -> None:
    generate_key(softhsm.config("key"), Algorithm.ES256).close()
    with Pkcs11Signer(softhsm.config("key")) as signer:
        signer.sign(b"ok")
    assert "closed" in repr(signer)
    with pytest.raises(SignerError) as info:
        signer.sign(b"too late")
    assert info.value.code is ErrorCode.SIGNER_UNAVAILABLE


@pytest.mark.softhsm
def test_signer_recovers_after_the_module_is_reinitialised(softhsm: SoftHsm) -> None:
    generate_key(softhsm.config("key"), Algorithm.ES256).close()
    with Pkcs11Signer(softhsm.config("key")) as signer:
        _verify(signer, b"before", signer.sign(b"before"))
        reload_module(softhsm.module)  # every session handle is now invalid
        _verify(signer, b"after", signer.sign(b"after"))


@pytest.mark.softhsm
def test_two_signers_in_one_process_share_the_login(softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch) -> None:
    generate_key(softhsm.config("one"), Algorithm.ES256).close()
    generate_key(softhsm.config("two"), Algorithm.ES256).close()
    opened = _count_opens(monkeypatch)
    first = Pkcs11Signer(softhsm.config("one"))  # logs the process in
    with Pkcs11Signer(softhsm.config("two")) as second:  # inherits the login
        _verify(second, b"a", second.sign(b"a"))
        first.close()  # C_Logout: the process is logged out of the token
        _verify(second, b"b", second.sign(b"b"))  # re-opens and logs in again by itself
    assert len(opened) == 3


def _open_in_turn(signer: Pkcs11Signer, lock: Any) -> None:
    """Pool initializer: each worker opens its session (C_Initialize, C_Login) while holding ``lock``.

    SoftHSM2's file object store is not safe for several processes initialising the same token at once: a
    worker scanning the token directory while another logs in can miss the token ("no token labelled"),
    which failed about one run in six. Real HSMs serialise this themselves; SoftHSM2 needs it done here.
    """
    with lock:
        signer.sign(b"warm-up")


def _sign_batch(signer: Pkcs11Signer, messages: list[bytes]) -> tuple[int, bytes, list[bytes]]:
    """In a worker process: the unpickled signer opens its own session and signs the batch."""
    with signer:
        return os.getpid(), signer.kid, [signer.sign(m) for m in messages]


@pytest.mark.softhsm
@pytest.mark.parametrize("start_method", ["spawn", "fork"])
def test_pickled_signer_signs_in_worker_processes(softhsm: SoftHsm, start_method: str) -> None:
    if start_method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {start_method} start method on this platform")
    signer = generate_key(softhsm.config("key"), Algorithm.ES256)
    clone = pickle.loads(pickle.dumps(signer))
    assert isinstance(clone, Pkcs11Signer) and clone.config == signer.config
    batches = [[b"process batch %d code %d" % (b, i) for i in range(20)] for b in range(4)]
    context = multiprocessing.get_context(start_method)
    with ProcessPoolExecutor(max_workers=2, mp_context=context, initializer=_open_in_turn,
                             initargs=(signer, context.Lock())) as pool:
        results = list(pool.map(_sign_batch, [signer] * len(batches), batches))
    for (pid, kid, signatures), messages in zip(results, batches, strict=True):
        assert pid != os.getpid()
        assert kid == signer.kid
        for data, signature in zip(messages, signatures, strict=True):
            _verify(signer, data, signature)
    _verify(signer, b"parent", signer.sign(b"parent"))  # the parent's session is untouched
    signer.close()
