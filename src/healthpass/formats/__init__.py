"""Adapters for foreign credential formats, feeding the same verifier result (EU DCC first)."""

__all__: list[str] = []
