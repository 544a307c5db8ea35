"""Where a signing command's key comes from: a key file or a PKCS#11 token."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from healthpass.cli._io import UsageError, _password, _read_small

if TYPE_CHECKING:
    from healthpass.signers import Signer

__all__ = ["_add_pkcs11_options", "_pkcs11_config", "_signer"]


def _add_pkcs11_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("PKCS#11 signing key (instead of a key file)")
    g.add_argument("--pkcs11-module", metavar="LIB.so", help="the vendor's PKCS#11 module (shared library)")
    g.add_argument("--pkcs11-token", metavar="LABEL", help="the token's label (required with --pkcs11-module)")
    g.add_argument("--pkcs11-key", metavar="LABEL", help="the key's label (or --pkcs11-key-id)")
    g.add_argument("--pkcs11-key-id", metavar="HEX", help="the key's CKA_ID in hex (or --pkcs11-key)")
    g.add_argument("--pkcs11-pin-env", metavar="VAR", help="read the user PIN from this environment variable")
    g.add_argument("--pkcs11-pin-file", metavar="FILE", help="read the user PIN from this file")


def _pkcs11_config(args: argparse.Namespace) -> Any:
    from healthpass.signers.pkcs11 import Pkcs11Config

    if not args.pkcs11_token:
        raise UsageError("--pkcs11-module needs --pkcs11-token")
    if (args.pkcs11_key is None) == (args.pkcs11_key_id is None):
        raise UsageError("give exactly one of --pkcs11-key and --pkcs11-key-id")
    if (args.pkcs11_pin_env is None) == (args.pkcs11_pin_file is None):
        raise UsageError("give exactly one of --pkcs11-pin-env and --pkcs11-pin-file")
    key_id = None
    if args.pkcs11_key_id is not None:
        try:
            key_id = bytes.fromhex(args.pkcs11_key_id)
        except ValueError:
            raise UsageError("--pkcs11-key-id must be hex") from None
    return Pkcs11Config(
        module=args.pkcs11_module,
        token_label=args.pkcs11_token,
        key_label=args.pkcs11_key,
        key_id=key_id,
        pin_env=args.pkcs11_pin_env,
        pin_file=args.pkcs11_pin_file,
    )


def _signer(args: argparse.Namespace, key_option: str) -> Signer:
    from healthpass.signers import SoftwareSigner

    key_path = getattr(args, key_option)
    if getattr(args, "pkcs11_module", None):
        if key_path:
            raise UsageError(f"give either --{key_option.replace('_', '-')} or --pkcs11-module, not both")
        from healthpass.signers.pkcs11 import Pkcs11Signer

        signer: Signer = Pkcs11Signer(_pkcs11_config(args))
        return signer
    if not key_path:
        raise UsageError(f"--{key_option.replace('_', '-')} (or --pkcs11-module) is required")
    return SoftwareSigner.from_pem(_read_small(key_path, "key"), _password(args.password_env))
