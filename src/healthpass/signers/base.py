"""The :class:`Signer` protocol (defined in the model layer so COSE signing can name it)."""

from __future__ import annotations

from healthpass.model.signer import Signer

__all__ = ["Signer"]
