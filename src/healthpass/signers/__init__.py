"""Where signatures come from: a software key or a PKCS#11 token, behind one :class:`Signer` protocol.

``python-pkcs11`` itself is imported only when a PKCS#11 signer is opened.
"""

from __future__ import annotations

from healthpass.signers.base import Signer
from healthpass.signers.pkcs11 import Pkcs11Config, Pkcs11Signer, generate_key
from healthpass.signers.software import SoftwareSigner

__all__ = ["Pkcs11Config", "Pkcs11Signer", "Signer", "SoftwareSigner", "generate_key"]
