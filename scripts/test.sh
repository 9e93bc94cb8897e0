#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine, then run the whole suite.
# Installs the reference servers from Debian (redis-server, redis-tools, rabbitmq-server; openssl
# for the TLS tests' certificates), chromium and chromium-driver (the dashboard's browser tests),
# a JDK and Debian's
# RabbitMQ Java client (the benchmark's Java row) and the Python test
# dependencies; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null \
    || ! command -v rabbitmq-server >/dev/null || ! command -v openssl >/dev/null \
    || ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools rabbitmq-server openssl \
    chromium chromium-driver
fi
# the Java client row of the benchmark (bench/clients_suite.py): javac and Debian's RabbitMQ Java client
if ! command -v javac >/dev/null || [ ! -e /usr/share/java/amqp-client.jar ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless librabbitmq-client-java
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
# arq caps redis-py below 6 in its metadata; as an extra it would drag the whole suite back to
# redis-py 5, so it is installed on its own (its only other dependency, click, comes with celery)
python3 -m pip install -q --disable-pip-version-check --no-deps 'arq>=0.26'
exec python3 -m pytest -p no:cacheprovider "$@"
