"""PyPI's XML-RPC API (``POST /pypi``): the mirroring and search methods that bandersnatch
and ``pip search`` call, answered from the journal and the search index."""
