"""cfnfix server: a Language Server Protocol server on stdio (see docs/editors.md)."""
