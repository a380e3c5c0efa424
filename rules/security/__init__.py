"""Rule family `security`."""
