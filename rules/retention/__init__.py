"""Rule family `retention`."""
