"""Importers: PyPI JSON API documents into rows (``wheelyard import pypi-json``)."""
