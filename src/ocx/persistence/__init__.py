"""Persistence: SQLAlchemy models' base, engine and session factories, migrations."""
