"""Legal review: tags, coding, notes, queues, history and disclosure bundles.

Domain code only (no Flask request objects): the web pages, the CLI and jobs call the same
functions. Every change records an audit event in the same transaction and goes through
`metadata.commit_labels` (labels) or `metadata.commit_and_reindex` (a marking), so search
agrees with the database.
"""
