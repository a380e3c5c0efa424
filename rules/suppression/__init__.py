"""Rule family `suppression`: findings about the suppressions themselves."""
