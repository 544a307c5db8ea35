"""``healthpass keygen``: a signing key pair in files or on a PKCS#11 token."""

from __future__ import annotations

import argparse
import os

from healthpass.cli._io import EXIT_OK, UsageError, _password
from healthpass.cli._parser import _Parser
from healthpass.cli._signers import _add_pkcs11_options, _pkcs11_config

__all__ = ["_keygen_arguments", "cmd_keygen"]


def cmd_keygen(args: argparse.Namespace) -> int:
    from pathlib import Path

    from healthpass import Algorithm
    from healthpass.signers import SoftwareSigner

    try:
        alg = Algorithm.from_name(args.alg)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if alg is Algorithm.PS256:
        raise UsageError("healthpass signs with ES256, EdDSA or SM2")
    prefix = Path(args.out)
    if args.pkcs11_module:
        if alg is Algorithm.SM2:
            raise UsageError("SM2 keys are software keys only: PKCS#11 SM2 signing is out of scope (docs/hsm.md)")
        from healthpass.signers.pkcs11 import generate_key

        hsm = generate_key(_pkcs11_config(args), alg)
        pub = hsm.public_key_pem()
        kid = hsm.kid
    else:
        signer = SoftwareSigner.generate(alg)
        key_file = prefix.with_name(prefix.name + ".key.pem")
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(signer.private_key_pem(_password(args.password_env)))
        os.chmod(key_file, 0o600)
        pub = signer.public_key_pem()
        kid = signer.kid
    prefix.with_name(prefix.name + ".pub.pem").write_bytes(pub)
    print(kid.hex())
    return EXIT_OK


def _keygen_arguments(p: _Parser) -> None:
    p.add_argument("--alg", required=True, help="ES256, EdDSA or SM2 (SM2 needs the healthpass[sm] extra)")
    p.add_argument("--out", required=True, metavar="PREFIX",
                   help="write PREFIX.key.pem (mode 0600) and PREFIX.pub.pem; prints the kid")
    p.add_argument("--password-env", metavar="VAR", help="encrypt the private key with this variable's value")
    _add_pkcs11_options(p)
    p.set_defaults(func=cmd_keygen)
