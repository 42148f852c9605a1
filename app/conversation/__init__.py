"""Conversations: the turn loop, its events, history, the standalone query, the system prompt."""
