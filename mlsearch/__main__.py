"""``python -m mlsearch`` = the ``mlsearch`` console script."""

from mlsearch.cli import main

main()
