"""mikro: synchronous, connection-oriented message passing, after the mikro IPC design."""
__version__ = "0.1.0"
