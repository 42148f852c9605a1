"""The assistant's tools: typed inputs, risk levels, permissions, platform calls."""
