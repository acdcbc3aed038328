"""Trusted publishing: CI jobs upload with tokens minted from their OIDC identity (PyPI's)."""
