"""Rule family `tagging`."""
