"""Storage: SQLAlchemy models, repositories and Alembic migrations (SQLite or PostgreSQL)."""
