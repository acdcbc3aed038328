"""Importers: bring data from elsewhere into the index."""
