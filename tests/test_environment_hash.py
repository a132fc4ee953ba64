"""The environment part of every step's key: the fast header reading gives exactly what
importlib.metadata's full parse gives, so the keys (and every cache) stay as they were."""
from importlib import metadata

from tillit.build.pipeline import cache


def test_name_and_version_as_importlib_metadata_gives_them():
    for d in metadata.distributions():
        assert cache._name_version(d) == ((d.metadata["Name"] or "").lower(), d.version), d._path
