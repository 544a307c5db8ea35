"""healthpass: offline-verifiable signed health credentials."""
__version__ = "0.1.0"
__all__ = ["__version__"]
