"""Running it all: the cached pipeline, batch runs on Dask, and the `tillit` command."""
