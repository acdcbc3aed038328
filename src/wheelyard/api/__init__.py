"""Machine-facing endpoints: the Simple API, JSON API, files and uploads."""
