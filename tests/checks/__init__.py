"""Independent checks over the whole library: layers, snapshots, IAM catalogue, definition
linters, path coverage, AWS assumptions, documented permissions, quality gates."""
