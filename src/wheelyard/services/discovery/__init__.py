"""Discovery: finding projects — search, browse by license and language, feeds, the
sitemap, and the pagination they share.
"""
