"""Analytics: the download recorder (rows written off the request path), the rollups
it adds to, their rebuild and retention, user-agent classification, and the figures and
charts the stats pages and API show. Reads what index serves; imports no upload code.
"""
