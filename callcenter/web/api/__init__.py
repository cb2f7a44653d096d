"""The JSON API: one module per resource, each router guarded by its role."""
