"""What every service shares: models, database, auth, permissions, errors, middlewares, config."""
