"""Token usage, prices, the usage ledger, budgets and rate limits."""
