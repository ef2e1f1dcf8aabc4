"""The sscma package's version: the libsscma release it belongs to (meson.build's project version; pyproject.toml
reads it from here). tests/python/test_package.py keeps the three equal."""
__version__ = "0.1.0"
