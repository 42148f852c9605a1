"""HTTP client of the Course Creator Platform's REST API, acting with the user's own token."""
