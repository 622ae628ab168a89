"""The version, read once from the installed package's metadata (pyproject.toml is the one source)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bayes_cmo")
except PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "0+unknown"
