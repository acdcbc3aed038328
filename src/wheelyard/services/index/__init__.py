"""The index pip reads: one project's simple page, the list of every project, the JSON
API document, the per-worker page cache the journal keeps current, and the files it serves.
"""
