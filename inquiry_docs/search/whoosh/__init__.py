"""The Whoosh search backend (pure Python, the design card's engine): one record per page,
the query tree compiled to Whoosh queries, and the per-segment caches that keep it quick."""
