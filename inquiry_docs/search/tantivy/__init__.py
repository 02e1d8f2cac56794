"""The tantivy search backend (SEARCH_BACKEND=tantivy): one record per page in a tantivy
index under INDEX_DIR/tantivy; labels (tags, coding, evidence links) read from the
database at search time."""
