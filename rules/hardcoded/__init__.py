"""Rule family `hardcoded`."""
