"""Lua scripting as Redis 7.0 runs it: EVAL scripts and FUNCTION libraries on Lua 5.1 (lupa.lua51)."""
