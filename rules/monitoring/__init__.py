"""Rule family `monitoring`."""
