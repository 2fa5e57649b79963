"""Database backends of the platform (not a Django app)."""
