"""Seeing the evidence whole: every document a search matches within the reader's reach
(`overview`), results collapsed to one per group of near-duplicates, the near-duplicates of
a document a reader may see (`versions`), a word-by-word comparison of two versions
(`compare`) and documents by month (`timeline`).

Everything here starts from the search backend (the reader's reach applied inside the
query) or from `access.permissions`, so no document outside reach is shown or counted.
"""
