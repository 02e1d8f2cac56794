"""`python -m inquiry_docs.cli`: the same as the `inquiry-docs` console script."""

from .main import main

main()
