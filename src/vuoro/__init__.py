"""Vuoro: an open-source service desk that never closes."""

__version__ = "0.1.0"
