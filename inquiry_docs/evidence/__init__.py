"""The evidence itself, from arrival to searchable: write-once storage of originals, the
ingest stages (validate, register, extract in a job, OCR, save pages), the index task that
writes committed pages to the search index, metadata edits, and page images."""
