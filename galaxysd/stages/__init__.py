"""One module per chapter: the cached stages a notebook runs over the run folder."""
