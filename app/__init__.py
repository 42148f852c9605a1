"""The assistant core: conversation, retrieval, providers, tools, actions, store. Imports no UI."""
