"""Rule family `dead-letter`."""
