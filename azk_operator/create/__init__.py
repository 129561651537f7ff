"""`azk create`'s steps: from nothing to a cluster that manages itself, each step safe to re-run."""
