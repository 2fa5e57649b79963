"""Tongban (通办): a shared e-government platform for Chinese city and county governments."""

__version__ = "0.1.0"
