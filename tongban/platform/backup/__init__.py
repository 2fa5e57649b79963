"""Backups of the database and the stored files, with a manifest to verify a restore."""
