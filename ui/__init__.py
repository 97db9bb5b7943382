"""coursemate package."""
