"""Where signatures come from: a software key or a PKCS#11 token, behind one :class:`Signer` protocol."""

from __future__ import annotations

from healthpass.signers.base import Signer
from healthpass.signers.software import SoftwareSigner

__all__ = ["Signer", "SoftwareSigner"]
