"""Version-1 event models, one module per producing domain."""
