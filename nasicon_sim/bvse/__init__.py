"""Bond-valence site-energy (BVSE) landscapes of mobile ions (see the module docstrings)."""
