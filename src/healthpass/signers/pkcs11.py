"""A signer whose private key never leaves a PKCS#11 token (an HSM, a smart card, SoftHSM2 in tests).

This is the only module importing ``pkcs11`` (python-pkcs11), and it does so lazily inside functions so
``import healthpass`` stays light and works without the ``pkcs11`` extra.

ES256 signs a SHA-256 digest computed here (hashlib) with ``CKM_ECDSA`` and normalises the token's raw
``r || s`` to low-s; EdDSA signs the message with ``CKM_EDDSA`` (pure Ed25519) when the token offers it.
The PIN is read from an environment variable or a file when a session is opened; it is never stored,
never put in a message, a repr or a log, and never taken from a command line.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from healthpass import crypto
from healthpass.errors import ErrorCode, SignerError, Stage, VerificationError
from healthpass.model.cose import Algorithm

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import TracebackType

    from pkcs11._pkcs11 import lib as _P11Lib
    from pkcs11.types import HasKeyType as _P11KeyObject
    from pkcs11.types import PublicKey as _P11PublicKey
    from pkcs11.types import Session as _P11Session
    from pkcs11.types import SignMixin as _P11PrivateKey  # a private key object that can sign
    from pkcs11.types import Token as _P11Token

__all__ = ["Pkcs11Config", "Pkcs11Signer", "generate_key", "parse_key_id", "reload_module"]

#: CKA_EC_PARAMS of P-256: the DER OID 1.2.840.10045.3.1.7 (prime256v1 / secp256r1).
_P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")
#: CKA_EC_PARAMS of Ed25519: the DER OID 1.3.101.112 (id-Ed25519, RFC 8410) ...
_ED25519_OID_PARAMS = bytes.fromhex("06032b6570")
#: ... or the PrintableString "edwards25519" (PKCS#11 3.0 §2.3.10); tokens use either.
_ED25519_NAME_PARAMS = b"\x13\x0cedwards25519"
_P256_POINT_SIZES = (33, 65)  # compressed or uncompressed SEC1 point
_ED25519_POINT_SIZES = (32,)
_ES256_SIG_LEN = 64
_GENERATED_ID_LEN = 8
_SELF_TEST_MESSAGE = b"healthpass pkcs11 key pairing self-test"

# The python-pkcs11 Mechanism member per algorithm; messages print it as CKM_<name>.
_SIGN_MECHANISM = MappingProxyType({Algorithm.ES256: "ECDSA", Algorithm.EDDSA: "EDDSA"})
_KEYGEN_MECHANISM = MappingProxyType({Algorithm.ES256: "EC_KEY_PAIR_GEN", Algorithm.EDDSA: "EC_EDWARDS_KEY_PAIR_GEN"})

#: Serialises every PKCS#11 call in the process. python-pkcs11 calls ``C_Initialize(NULL)``, which by the
#: PKCS#11 standard promises the module that no two threads call it at once (SoftHSM2 then disables its own
#: locking and crashes under concurrent calls). A lock, not state: it guards the module, holds no data.
_CALL_LOCK = threading.RLock()
# Hold it across fork() (as the logging module does with its lock), so a child never inherits it locked
# by a thread that does not exist there, nor the module in the middle of a call.
if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(
        before=_CALL_LOCK.acquire, after_in_parent=_CALL_LOCK.release, after_in_child=_CALL_LOCK.release
    )


@dataclass(frozen=True, slots=True)
class Pkcs11Config:
    """Where the signing key lives in a PKCS#11 token, and where its PIN comes from.

    ``module`` is the path of the vendor's PKCS#11 library (e.g. ``/usr/lib/softhsm/libsofthsm2.so``),
    ``token_label`` the token's label. The key is named by exactly one of ``key_label`` (CKA_LABEL) and
    ``key_id`` (CKA_ID bytes, see :func:`parse_key_id`). The user PIN comes from exactly one of ``pin_env``
    (the *name* of an environment variable) and ``pin_file`` (a file holding the PIN; one trailing newline
    is ignored); it is read each time a login is needed and never kept.
    """

    module: str
    token_label: str
    key_label: str | None = None
    key_id: bytes | None = None
    pin_env: str | None = None
    pin_file: Path | None = None

    def __post_init__(self) -> None:
        if isinstance(self.module, os.PathLike):  # tolerate a Path at runtime
            object.__setattr__(self, "module", os.fspath(self.module))
        if isinstance(self.pin_file, str):
            object.__setattr__(self, "pin_file", Path(self.pin_file))
        if not self.module:
            raise ValueError("the PKCS#11 module path is empty")
        if not self.token_label:
            raise ValueError("the token label is empty")
        if (self.key_label is None) == (self.key_id is None):
            raise ValueError("name the key by exactly one of key_label and key_id")
        if self.key_label == "" or self.key_id == b"":
            raise ValueError("the key label or id is empty")
        if (self.pin_env is None) == (self.pin_file is None):
            raise ValueError("give exactly one PIN source: pin_env or pin_file")
        if self.pin_env == "":
            raise ValueError("the PIN environment variable name is empty")

    @property
    def key_description(self) -> str:
        """``label 'x'`` or ``id 0a0b`` — how messages name the key."""
        if self.key_label is not None:
            return f"label {self.key_label!r}"
        assert self.key_id is not None
        return f"id {self.key_id.hex()}"


def parse_key_id(text: str) -> bytes:
    """A CKA_ID from hex as tools print it: 0a0b, 0x0a0b, 0a:0b or 0a 0b. ValueError if not hex."""
    cleaned = text.strip().removeprefix("0x").removeprefix("0X").replace(":", "").replace(" ", "")
    if not cleaned:
        raise ValueError("empty key id")
    try:
        return bytes.fromhex(cleaned)
    except ValueError as err:
        raise ValueError(f"key id is not hex: {text!r}") from err


@dataclass(frozen=True, slots=True)
class _KeyInfo:
    algorithm: Algorithm
    public_key: crypto.PublicKey
    spki: bytes
    kid: bytes


def _error(code: ErrorCode, message: str) -> SignerError:
    return SignerError(code, Stage.SIGNER, message)


def _read_pin(config: Pkcs11Config) -> str:
    """The user PIN from the configured source. Messages name the source, never the PIN."""
    if config.pin_env is not None:
        pin = os.environ.get(config.pin_env)
        if not pin:
            raise _error(
                ErrorCode.SIGNER_UNAVAILABLE,
                f"the PIN environment variable {config.pin_env} is not set or empty",
            )
        return pin
    path = config.pin_file
    assert path is not None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise _error(ErrorCode.SIGNER_UNAVAILABLE, f"cannot read the PIN file {path}: {reason}") from None
    except UnicodeDecodeError:  # its repr would quote the file's bytes: do not chain it
        raise _error(ErrorCode.SIGNER_UNAVAILABLE, f"the PIN file {path} is not UTF-8 text") from None
    pin = text.removesuffix("\n").removesuffix("\r")
    if not pin:
        raise _error(ErrorCode.SIGNER_UNAVAILABLE, f"the PIN file {path} is empty")
    return pin


def _translate(err: Exception, config: Pkcs11Config) -> SignerError:
    """Map a python-pkcs11 exception to a typed SignerError (naming the error class, never a PIN)."""
    from pkcs11 import exceptions as p11e

    token = config.token_label
    if isinstance(err, p11e.PinIncorrect | p11e.PinInvalid | p11e.PinLenRange):
        return _error(ErrorCode.PIN_INCORRECT, f"token {token!r} rejected the user PIN")
    if isinstance(err, p11e.PinLocked):
        return _error(ErrorCode.SIGNER_UNAVAILABLE, f"the user PIN of token {token!r} is locked")
    if isinstance(err, p11e.PinExpired):
        return _error(ErrorCode.SIGNER_UNAVAILABLE, f"the user PIN of token {token!r} has expired")
    if isinstance(err, p11e.UserPinNotInitialized):
        return _error(ErrorCode.SIGNER_UNAVAILABLE, f"token {token!r} has no user PIN set")
    if isinstance(err, p11e.MechanismInvalid | p11e.MechanismParamInvalid):
        return _error(ErrorCode.MECHANISM_UNSUPPORTED, f"token {token!r} rejected the mechanism")
    if isinstance(err, p11e.NoSuchToken | p11e.TokenNotPresent | p11e.TokenNotRecognised | p11e.DeviceRemoved):
        return _error(ErrorCode.SIGNER_UNAVAILABLE, f"token {token!r} is not present")
    if isinstance(err, p11e.NoSuchKey):
        return _error(ErrorCode.SIGNER_KEY_NOT_FOUND, f"no key with {config.key_description} in token {token!r}")
    return _error(ErrorCode.SIGNER_UNAVAILABLE, f"token {token!r} failed: {type(err).__name__}")


def _load(module: str) -> _P11Lib:
    """Load (once per process, cached by python-pkcs11) and initialise the PKCS#11 module."""
    try:
        import pkcs11
    except ImportError as err:
        raise _error(
            ErrorCode.SIGNER_UNAVAILABLE, "python-pkcs11 is not installed (pip install 'healthpass[pkcs11]')"
        ) from err
    try:
        return pkcs11.lib(module)
    except (pkcs11.PKCS11Error, OSError) as err:
        raise _error(ErrorCode.SIGNER_UNAVAILABLE, f"cannot load the PKCS#11 module {module}: {err}") from err


def _exactly_one(
    lookup: Callable[[], Any], config: Pkcs11Config, code: ErrorCode, missing: tuple[type[Exception], str],
    several: tuple[type[Exception], str],
) -> Any:
    """``lookup()``'s one result; ``code`` with the ``missing`` or ``several`` message when python-pkcs11 finds
    none or several (its exception classes given with each message); any other token error translated."""
    import pkcs11

    try:
        return lookup()
    except missing[0]:
        raise _error(code, missing[1]) from None
    except several[0]:
        raise _error(code, several[1]) from None
    except pkcs11.PKCS11Error as err:
        raise _translate(err, config) from err


def _find_token(lib: _P11Lib, config: Pkcs11Config) -> _P11Token:
    import pkcs11

    where = f"labelled {config.token_label!r} in the PKCS#11 module {config.module}"
    token: _P11Token = _exactly_one(
        lambda: lib.get_token(token_label=config.token_label), config, ErrorCode.SIGNER_UNAVAILABLE,
        (pkcs11.NoSuchToken, f"no token {where}"), (pkcs11.MultipleTokensReturned, f"several tokens are {where}"),
    )
    return token


def _require_mechanisms(token: _P11Token, config: Pkcs11Config, names: Iterable[str]) -> None:
    """Raise MECHANISM_UNSUPPORTED naming the first of ``names`` (``CKM_`` suffixes) the token lacks."""
    import pkcs11

    try:
        offered = {int(m) for m in token.slot.get_mechanisms()}
    except pkcs11.PKCS11Error as err:
        raise _translate(err, config) from err
    for name in names:
        if int(getattr(pkcs11.Mechanism, name)) not in offered:
            raise _error(ErrorCode.MECHANISM_UNSUPPORTED, f"token {config.token_label!r} does not support CKM_{name}")


def _login_session(token: _P11Token, config: Pkcs11Config, *, rw: bool = False) -> _P11Session:
    """Open a session logged in as the user (closing it logs the process out of the token again).

    PKCS#11 login state is per application and token: when this process is already logged in (another
    signer on the same token), the new session inherits the login and the PIN is not re-checked.
    """
    import pkcs11

    pin = _read_pin(config)
    try:
        return token.open(rw=rw, user_pin=pin)
    except pkcs11.UserAlreadyLoggedIn:
        pass
    except pkcs11.PKCS11Error as err:
        raise _translate(err, config) from None  # chain nothing that could carry the PIN
    finally:
        del pin
    try:
        return token.open(rw=rw)  # no C_Login: the session inherits the process's login
    except pkcs11.PKCS11Error as err:
        raise _translate(err, config) from err


def _close_quietly(session: _P11Session) -> None:
    # A dead session (token removed, module re-initialised) closes as a no-op.
    with contextlib.suppress(Exception):
        session.close()


def _find_object(session: _P11Session, config: Pkcs11Config, object_class: Any, what: str) -> Any:
    import pkcs11

    where = f"{config.key_description} in token {config.token_label!r}"
    return _exactly_one(
        lambda: session.get_key(object_class=object_class, label=config.key_label, id=config.key_id), config,
        ErrorCode.SIGNER_KEY_NOT_FOUND, (pkcs11.NoSuchKey, f"no {what} with {where}"),
        (pkcs11.MultipleObjectsReturned, f"several {what}s have {where}"),
    )


def _private_key(session: _P11Session, config: Pkcs11Config) -> _P11PrivateKey:
    import pkcs11

    key: _P11PrivateKey = _find_object(session, config, pkcs11.ObjectClass.PRIVATE_KEY, "private key")
    return key


def _public_key(session: _P11Session, config: Pkcs11Config) -> _P11PublicKey:
    import pkcs11

    key: _P11PublicKey = _find_object(session, config, pkcs11.ObjectClass.PUBLIC_KEY, "public key")
    return key


def _point_bytes(value: bytes, sizes: tuple[int, ...]) -> bytes:
    """The point inside CKA_EC_POINT: a DER OCTET STRING (PKCS#11 §2.3.3), though a few tokens return it bare.

    The two readings cannot be confused: a bare point of an expected size never parses as an OCTET STRING
    whose content has an expected size and fills the value exactly.
    """
    if len(value) >= 2 and value[0] == 0x04:
        length, offset = value[1], 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(value[2 : 2 + count], "big") if 1 <= count <= 2 else -1
            offset = 2 + count
        if length in sizes and offset + length == len(value):
            return value[offset:]
    if len(value) in sizes:
        return value
    raise ValueError(f"CKA_EC_POINT holds {len(value)} bytes, not a point of the expected size")


def _key_info(private: _P11KeyObject, public: _P11KeyObject, config: Pkcs11Config) -> _KeyInfo:
    """Algorithm, SPKI DER and kid of a token key pair, from the public key's CKA_EC_PARAMS/CKA_EC_POINT."""
    import pkcs11
    from pkcs11 import Attribute, KeyType

    desc, token = config.key_description, config.token_label
    try:
        key_type = private.key_type
        if public.key_type != key_type:
            raise _error(
                ErrorCode.SIGNER_KEY_NOT_FOUND,
                f"the public and private keys with {desc} in token {token!r} have different types",
            )
        if not private[Attribute.SIGN]:
            raise _error(ErrorCode.SIGNER_UNAVAILABLE, f"the private key with {desc} in token {token!r} may not sign")
        if key_type not in (KeyType.EC, KeyType.EC_EDWARDS):
            raise _error(
                ErrorCode.MECHANISM_UNSUPPORTED,
                f"the key with {desc} in token {token!r} is a {getattr(key_type, 'name', key_type)} key; "
                "healthpass signs with P-256 (ES256) or Ed25519 (EdDSA)",
            )
        params: bytes = public[Attribute.EC_PARAMS]
        point: bytes = public[Attribute.EC_POINT]
    except pkcs11.PKCS11Error as err:
        raise _translate(err, config) from err
    try:
        if key_type == KeyType.EC:
            if params != _P256_PARAMS:
                raise _error(
                    ErrorCode.MECHANISM_UNSUPPORTED,
                    f"the EC key with {desc} in token {token!r} is not on P-256 (prime256v1) as ES256 needs",
                )
            algorithm = Algorithm.ES256
            public_key = crypto.public_key_from_ec_point(_point_bytes(point, _P256_POINT_SIZES))
        else:
            if params not in (_ED25519_OID_PARAMS, _ED25519_NAME_PARAMS):
                raise _error(
                    ErrorCode.MECHANISM_UNSUPPORTED,
                    f"the Edwards key with {desc} in token {token!r} is not Ed25519, which EdDSA needs",
                )
            algorithm = Algorithm.EDDSA
            public_key = crypto.public_key_from_raw_ed25519(_point_bytes(point, _ED25519_POINT_SIZES))
    except ValueError as err:
        raise _error(
            ErrorCode.SIGNER_UNAVAILABLE, f"the public key with {desc} in token {token!r} is malformed: {err}"
        ) from err
    spki = crypto.spki_der(public_key)
    return _KeyInfo(algorithm=algorithm, public_key=public_key, spki=spki, kid=crypto.kid_for(spki))


def _payload(algorithm: Algorithm, data: bytes) -> bytes:
    """What goes to C_Sign: the SHA-256 digest for CKM_ECDSA (hashed here), the message for CKM_EDDSA."""
    return hashlib.sha256(data).digest() if algorithm is Algorithm.ES256 else data


def _raw_sign(key: _P11PrivateKey, algorithm: Algorithm, payload: bytes) -> bytes:
    """One C_SignInit/C_Sign: ``payload`` is the SHA-256 digest for ES256, the message for EdDSA.

    Caller holds _CALL_LOCK. Raises python-pkcs11 errors.
    """
    import pkcs11

    mechanism = pkcs11.Mechanism.ECDSA if algorithm is Algorithm.ES256 else pkcs11.Mechanism.EDDSA
    return key.sign(payload, mechanism=mechanism)


def _cose_signature(algorithm: Algorithm, raw: bytes, config: Pkcs11Config) -> bytes:
    if algorithm is Algorithm.ES256:
        if len(raw) != _ES256_SIG_LEN:
            raise _error(
                ErrorCode.SIGNER_UNAVAILABLE,
                f"token {config.token_label!r} returned a {len(raw)}-byte ECDSA signature, not 64 bytes",
            )
        return crypto.normalize_low_s(raw)
    return raw


def _restore(config: Pkcs11Config) -> Pkcs11Signer:
    """Unpickling: a signer for the same config that opens its session on first use in this process."""
    return Pkcs11Signer(config, connect=False)


@dataclass(frozen=True, slots=True, eq=False)
class _Open:
    """The signer's session with the private key object bound to it."""

    session: _P11Session
    key: _P11PrivateKey
    pid: int  # the process that opened it


class Pkcs11Signer:
    """Signs through a PKCS#11 token with the key named by a :class:`Pkcs11Config`.

    Implements the :class:`healthpass.signers.Signer` protocol. The constructor loads the module, finds the
    token, logs in, loads the key and proves the public key matches it with one signature, so a
    misconfiguration fails here; ``connect=False`` defers all of that to first use.

    One session is opened and reused for every signature. Thread-safe: every PKCS#11 call in the process
    is serialised on one lock (python-pkcs11 initialises modules with ``C_Initialize(NULL)``, which tells
    the module no two threads will call it at once; SoftHSM2 then runs without locking), so threads share
    the token but do not sign in parallel; use processes for that. On a token error during ``sign`` the
    session is dropped and the signature retried once on a fresh session.

    Picklable: the config travels and the copy opens its own session on first use in the worker process
    (prefer the ``spawn`` or ``forkserver`` start method: PKCS#11 does not promise that a forked child
    may use the module state it inherited; SoftHSM2 copes).
    """

    __slots__ = ("_closed", "_config", "_info", "_open")

    def __init__(self, config: Pkcs11Config, *, connect: bool = True) -> None:
        self._config = config
        self._open: _Open | None = None
        self._info: _KeyInfo | None = None
        self._closed = False
        if connect:
            self._key_info()

    # -- the Signer protocol ------------------------------------------------------------------------

    @property
    def config(self) -> Pkcs11Config:
        return self._config

    @property
    def algorithm(self) -> Algorithm:
        return self._key_info().algorithm

    @property
    def public_key_der(self) -> bytes:
        return self._key_info().spki

    @property
    def kid(self) -> bytes:
        return self._key_info().kid

    def public_key_pem(self) -> bytes:
        """The public key as SPKI PEM (what ``healthpass keygen --pkcs11-...`` writes to PREFIX.pub.pem)."""
        return crypto.public_key_pem(self._key_info().public_key)

    def sign(self, data: bytes) -> bytes:
        """Sign on the token: ES256 over a SHA-256 digest via CKM_ECDSA (low-s), EdDSA via CKM_EDDSA."""
        import pkcs11

        algorithm = self._key_info().algorithm
        payload = _payload(algorithm, data)
        with _CALL_LOCK:
            for attempt in range(2):
                key = self._session_locked().key
                try:
                    raw = _raw_sign(key, algorithm, payload)
                    break
                except pkcs11.PKCS11Error as err:
                    self._drop_locked()  # a dead session, a lost login, a re-initialised module...
                    if attempt:
                        raise _translate(err, self._config) from err
        return _cose_signature(algorithm, raw, self._config)

    # -- lifecycle ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the session (logging out if this signer logged in). Later ``sign`` calls raise."""
        with _CALL_LOCK:
            self._closed = True
            self._drop_locked()

    def __enter__(self) -> Pkcs11Signer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __reduce__(self) -> tuple[object, ...]:
        return (_restore, (self._config,))

    def __repr__(self) -> str:
        cfg = self._config
        text = f"Pkcs11Signer(token={cfg.token_label!r}, key={cfg.key_description}"
        if self._info is not None:
            text += f", algorithm={self._info.algorithm.jose_name}, kid={self._info.kid.hex()}"
        return text + (", closed)" if self._closed else ")")

    # -- the session ----------------------------------------------------------------------------------

    def _key_info(self) -> _KeyInfo:
        info = self._info
        if info is None:
            with _CALL_LOCK:
                self._session_locked()  # the first session loads the key info
            info = self._info
            assert info is not None
        return info

    def _session_locked(self) -> _Open:
        """The open session, opening it if needed. Caller holds _CALL_LOCK."""
        if self._closed:
            raise _error(ErrorCode.SIGNER_UNAVAILABLE, f"the signer for token {self._config.token_label!r} is closed")
        current = self._open
        if current is not None and current.pid != os.getpid():
            current = self._open = None  # a forked child: the parent's session is not ours to use or close
        if current is None:
            current = self._open = self._open_session()
        return current

    def _open_session(self) -> _Open:
        """Open and log in a session, find the private key, and on first use load and check the key info."""
        cfg = self._config
        token = _find_token(_load(cfg.module), cfg)
        session = _login_session(token, cfg)
        try:
            key = _private_key(session, cfg)
            if self._info is None:
                self._info = _load_info(token, session, key, cfg)
        except BaseException:
            _close_quietly(session)
            raise
        return _Open(session=session, key=key, pid=os.getpid())

    def _drop_locked(self) -> None:
        current, self._open = self._open, None
        if current is not None and current.pid == os.getpid():
            _close_quietly(current.session)


def _load_info(token: _P11Token, session: _P11Session, key: _P11PrivateKey, cfg: Pkcs11Config) -> _KeyInfo:
    """Read the public key, check the token offers the mechanism, and prove the pair matches."""
    import pkcs11

    info = _key_info(key, _public_key(session, cfg), cfg)
    _require_mechanisms(token, cfg, [_SIGN_MECHANISM[info.algorithm]])
    message, algorithm = _SELF_TEST_MESSAGE, info.algorithm
    try:
        raw = _raw_sign(key, algorithm, _payload(algorithm, message))
    except pkcs11.PKCS11Error as err:
        raise _translate(err, cfg) from err
    signature = _cose_signature(algorithm, raw, cfg)
    try:
        crypto.verify_signature(algorithm, info.public_key, message, signature, require_low_s=True)
    except VerificationError:
        raise _error(
            ErrorCode.SIGNER_KEY_NOT_FOUND,
            f"the public key with {cfg.key_description} in token {cfg.token_label!r} does not match the private key",
        ) from None
    return info


def _existing_keys(session: _P11Session, config: Pkcs11Config) -> bool:
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    for object_class in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
        attrs: dict[Attribute, Any] = {Attribute.CLASS: object_class}
        if config.key_label is not None:
            attrs[Attribute.LABEL] = config.key_label
        if config.key_id is not None:
            attrs[Attribute.ID] = config.key_id
        try:
            if list(session.get_objects(attrs)):  # exhausted, so C_FindObjectsFinal runs now
                return True
        except pkcs11.PKCS11Error as err:
            raise _translate(err, config) from err
    return False


def generate_key(config: Pkcs11Config, algorithm: Algorithm = Algorithm.ES256) -> Pkcs11Signer:
    """Create a key pair inside the token and return a signer for it.

    ES256 makes a P-256 pair (CKM_EC_KEY_PAIR_GEN, prime256v1 parameters), EdDSA an Ed25519 pair
    (CKM_EC_EDWARDS_KEY_PAIR_GEN); MECHANISM_UNSUPPORTED names the mechanism the token lacks. Both keys are
    token objects; the private key is private, sensitive, non-extractable and may only sign. The pair gets
    ``config.key_label`` (if any) and the id ``config.key_id``, or else the kid when the token lets the id be
    set after generation (a random 8-byte id otherwise). Refuses (SIGNER_UNAVAILABLE) when a key with the
    same label or id already exists.
    """
    if algorithm not in _KEYGEN_MECHANISM:
        raise _error(
            ErrorCode.MECHANISM_UNSUPPORTED,
            f"healthpass makes ES256 or EdDSA keys, not {algorithm.jose_name}",
        )
    with _CALL_LOCK:
        _generate_in_token(config, algorithm)
    return Pkcs11Signer(config)


def _generate_in_token(config: Pkcs11Config, algorithm: Algorithm) -> None:
    """The token side of :func:`generate_key`. Caller holds _CALL_LOCK."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, MechanismFlag

    es256 = algorithm is Algorithm.ES256
    token = _find_token(_load(config.module), config)
    _require_mechanisms(token, config, [_KEYGEN_MECHANISM[algorithm], _SIGN_MECHANISM[algorithm]])
    session = _login_session(token, config, rw=True)
    try:
        if _existing_keys(session, config):
            raise _error(
                ErrorCode.SIGNER_UNAVAILABLE,
                f"token {config.token_label!r} already holds a key with {config.key_description}; "
                "refusing to overwrite it",
            )
        key_id = config.key_id if config.key_id is not None else secrets.token_bytes(_GENERATED_ID_LEN)
        public, private = session.generate_keypair(
            KeyType.EC if es256 else KeyType.EC_EDWARDS,
            id=key_id,
            label=config.key_label,
            store=True,
            capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
            mechanism=getattr(pkcs11.Mechanism, _KEYGEN_MECHANISM[algorithm]),
            public_template={
                Attribute.EC_PARAMS: _P256_PARAMS if es256 else _ED25519_OID_PARAMS,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.VERIFY: True,
            },
            private_template={
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.SIGN: True,
                Attribute.DERIVE: False,
            },
        )
        if config.key_id is None:
            _set_id_to_kid(private, public, key_id, _key_info(private, public, config).kid)
    except pkcs11.PKCS11Error as err:
        raise _translate(err, config) from err
    finally:
        _close_quietly(session)


def _set_id_to_kid(private: _P11KeyObject, public: _P11KeyObject, old_id: bytes, kid: bytes) -> None:
    """Give the new pair CKA_ID = kid so ``--pkcs11-key-id <kid>`` finds it; keep the random id if refused."""
    import pkcs11
    from pkcs11 import Attribute

    try:
        private[Attribute.ID] = kid
    except pkcs11.PKCS11Error:
        return
    try:
        public[Attribute.ID] = kid
    except pkcs11.PKCS11Error:
        with contextlib.suppress(pkcs11.PKCS11Error):  # the label still names the pair
            private[Attribute.ID] = old_id


def reload_module(module: str) -> None:
    """Finalise and re-initialise a PKCS#11 module in this process (C_Finalize + C_Initialize).

    The module then re-reads its configuration and sees tokens created since it was loaded (SoftHSM2 reads
    ``SOFTHSM2_CONF`` and scans its token directory only at initialisation). Every session of every signer on
    that module in this process becomes invalid; a signer recovers on its next ``sign`` by re-opening.
    """
    import pkcs11

    with _CALL_LOCK:
        lib = _load(module)
        try:
            lib.reinitialize()
        except pkcs11.PKCS11Error as err:
            raise _error(
                ErrorCode.SIGNER_UNAVAILABLE,
                f"cannot re-initialise the PKCS#11 module {module}: {type(err).__name__}",
            ) from err
