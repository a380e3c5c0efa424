"""Rule family `deployment`."""
