"""RBAC and organization scoping, checked by the assistant before any execution."""
