"""Data tables for the demo city's service catalogue (see ``tongban.demo.catalog``)."""
