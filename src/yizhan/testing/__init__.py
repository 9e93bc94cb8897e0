"""Testing support: a pytest plugin with running-server fixtures, a raw RESP client, and a
launcher for the real redis-server used as the reference in differential tests."""
