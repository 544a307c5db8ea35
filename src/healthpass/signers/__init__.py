"""Where signatures come from: a software key or a PKCS#11 token, behind one :class:`Signer` protocol.

``python-pkcs11`` itself is imported only when a PKCS#11 signer is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from healthpass.signers.base import Signer
from healthpass.signers.software import SoftwareSigner

if TYPE_CHECKING:
    from healthpass.signers.pkcs11 import Pkcs11Config, Pkcs11Signer, generate_key

__all__ = ["Pkcs11Config", "Pkcs11Signer", "Signer", "SoftwareSigner", "generate_key"]

_PKCS11_NAMES = frozenset({"Pkcs11Config", "Pkcs11Signer", "generate_key"})


if not TYPE_CHECKING:  # hidden from type checkers, which would otherwise accept any attribute name

    def __getattr__(name: str) -> Any:
        """The PKCS#11 names are imported on first use (a few ms of start-up for every other command)."""
        if name in _PKCS11_NAMES:
            from healthpass.signers import pkcs11

            return getattr(pkcs11, name)
        raise AttributeError(f"module 'healthpass.signers' has no attribute {name!r}")
