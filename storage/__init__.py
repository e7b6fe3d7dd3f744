"""The database: SQLAlchemy 2 models, Alembic migrations, repositories (the only SQL)."""
