"""Uploads: PyPI's upload rules (metadata, filenames, digests, permission, the archive
itself) and registering an accepted file; who uploads (auth). Uses projects and accounts.
"""
