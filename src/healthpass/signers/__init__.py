"""Where signatures come from: a software key or a PKCS#11 token, behind one :class:`Signer` protocol.

``python-pkcs11`` itself is imported only when a PKCS#11 signer is opened.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from healthpass._lazy import lazy_names
from healthpass.model.signer import Signer
from healthpass.signers.software import SoftwareSigner

if TYPE_CHECKING:
    from healthpass.signers.pkcs11 import Pkcs11Config, Pkcs11Signer, generate_key

__all__ = ["Pkcs11Config", "Pkcs11Signer", "Signer", "SoftwareSigner", "generate_key"]

#: the PKCS#11 names, imported on first use (PEP 562): other commands never load the PKCS#11 module
_LAZY = MappingProxyType(dict.fromkeys(("Pkcs11Config", "Pkcs11Signer", "generate_key"), "healthpass.signers.pkcs11"))

if not TYPE_CHECKING:  # hidden from type checkers, which would otherwise accept any attribute name
    __getattr__ = lazy_names(__name__, _LAZY, globals())
