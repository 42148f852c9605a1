"""LLM providers behind one small protocol (base.py); `registry.build_provider` picks one from settings."""
