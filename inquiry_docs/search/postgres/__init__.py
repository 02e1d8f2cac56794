"""The PostgreSQL search backend: weighted text vectors per page written in the pages'
transaction, the query tree compiled to tsquery SQL, and facets counted in the database."""
