"""Analytics: read-only summaries of an organization and of a course, computed from live data."""
