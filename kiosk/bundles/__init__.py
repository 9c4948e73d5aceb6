"""Signed configuration bundles: canonical JSON, Ed25519 threshold signatures, verification,
and atomic apply with rollback on the terminal (no Qt)."""
