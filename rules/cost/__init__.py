"""Rule family `cost`."""
