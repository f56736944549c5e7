"""File formats in and out, one module per family (``write``: structures and manifests)."""
