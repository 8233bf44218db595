"""The verification protocol (no HTTP, no events)."""
