"""Selection pieces shared by training, evaluation and limits: the signal windows in the
search variable and the Punzi figure of merit. Imports only numpy (and mlsearch.errors)."""
