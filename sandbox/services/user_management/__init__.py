"""User management: authentication (login, tokens), email verification and the caller's profile."""
