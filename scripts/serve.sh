#!/usr/bin/env bash
# Install yizhan and run it in the foreground with its defaults (Redis on 6379, data in ./yizhan-data).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -e .
exec python3 -m yizhan serve "$@"
