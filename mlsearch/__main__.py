"""``python -m mlsearch`` = the ``mlsearch`` console script."""

from mlsearch.cli import main

# the guard: processes started with spawn (DDP training, a LocalCluster's workers) import
# this module as __mp_main__ and must not run the command again
if __name__ == "__main__":
    main()
