"""Codes and limits in Redis, changed only by the Lua scripts in ``lua/``."""
