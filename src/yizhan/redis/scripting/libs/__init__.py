"""The libraries Redis gives Lua scripts beside the standard ones: cjson, cmsgpack, bit, struct."""
