#!/usr/bin/env python3
"""Run aiormq's own test suite against yizhan and against RabbitMQ, and print both pass counts.

    python scripts/run_aiormq_suite.py [--version 7.2.4] [--workdir DIR] [--keep] [-- PYTEST_ARGS...]

1. Fetches aiormq's sdist from PyPI with pip (`pip download --no-deps --no-binary aiormq`; its
   build tools may come as wheels) into a temporary directory, never into the repository, and
   unpacks it. If the sdist has no tests/ folder, it says so and exits with status 2.
2. Makes a virtualenv beside it (with this interpreter's site-packages visible) holding the
   suite's own test plugin, aiomisc-pytest, so that plugin never loads in yizhan's test runs.
3. Appends a shim to the suite's tests/conftest.py: its fixtures start a RabbitMQ in Docker;
   the shim points `amqp_direct_url` at $AMQP_URL instead and keeps the plain `amqp` URL
   variants. Tests that need the Docker image's TLS listener (port 5671 and its certificates)
   are skipped, on both brokers alike.
4. Starts yizhan (`yizhan.Server` on free ports) and Debian's rabbitmq-server
   (`yizhan.testing.rabbitmq.RabbitMQReference`), runs the suite once against each with
   AMQP_URL set, and prints passed/failed/errors/skipped for both.

Exit status: 0 when both runs finished (whatever their counts), 1 when a run could not run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
import xml.etree.ElementTree as ET
from pathlib import Path

SUITE_TIMEOUT = 1800   # seconds for one run of the suite

SHIM = '''

# ---- appended by yizhan's scripts/run_aiormq_suite.py: an external broker instead of Docker ----
import os as _yizhan_os

import pytest as _yizhan_pytest
from yarl import URL as _YizhanURL


class _NoTLSPorts(dict):
    def __getitem__(self, key):
        _yizhan_pytest.skip("needs the Docker image's TLS listener (port 5671 with its test certificates)")


class _ExternalBroker:
    ports = _NoTLSPorts()


@_yizhan_pytest.fixture(scope="session")
def rabbitmq_container():
    return _ExternalBroker()


@_yizhan_pytest.fixture
def amqp_direct_url():
    return _YizhanURL(_yizhan_os.environ["AMQP_URL"])


_yizhan_url_ids = ["amqp", "amqp-named"]


@_yizhan_pytest.fixture(params=_yizhan_url_ids, ids=_yizhan_url_ids)
async def amqp_url(request, amqp_direct_url):
    if request.param == "amqp-named":
        return amqp_direct_url.update_query(name="pytest")
    return amqp_direct_url
'''


def main() -> int:
    options = parse_args()
    version = options.version or installed_aiormq()
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="yizhan-aiormq-"))
    try:
        suite = fetch_suite(version, workdir)
        if suite is None:
            print(f"aiormq {version}: the sdist on PyPI has no tests/ folder; nothing to run")
            return 2
        python = make_venv(workdir / "venv", suite)
        add_shim(suite / "tests" / "conftest.py")
        results = run_both(python, suite, options.pytest_args)
    finally:
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report(version, results)
    return 0 if all(result is not None for result in results.values()) else 1


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="aiormq version (default: the installed one)")
    parser.add_argument("--workdir", help="where to fetch and run (default: a new temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    return parser.parse_args()


def installed_aiormq() -> str:
    from importlib.metadata import version

    return version("aiormq")


# -- fetching ------------------------------------------------------------------------------------
def fetch_suite(version: str, workdir: Path) -> Path | None:
    """Download and unpack the sdist; the unpacked folder, or None if it has no tests."""
    download = workdir / "download"
    download.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                    "--no-deps", "--no-binary", "aiormq", f"aiormq=={version}", "-d", str(download)],
                   check=True)
    archive = next(download.glob("aiormq-*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    suite = workdir / f"aiormq-{version}"
    return suite if (suite / "tests" / "conftest.py").exists() else None


def make_venv(path: Path, suite: Path) -> str:
    """A virtualenv seeing this interpreter's packages, plus the suite's pytest plugin."""
    venv.EnvBuilder(system_site_packages=True, with_pip=True, clear=True).create(path)
    python = str(path / "bin" / "python")
    requirement = dev_requirement(suite, "aiomisc-pytest") or "aiomisc-pytest"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
                   check=True)
    return python


def dev_requirement(suite: Path, name: str) -> str | None:
    """`name`'s pin from the sdist's dev dependency group, e.g. "aiomisc-pytest>=2,<3"."""
    import tomllib

    project = tomllib.loads((suite / "pyproject.toml").read_text())
    groups = project.get("dependency-groups", {})
    for requirement in groups.get("dev", []):
        if isinstance(requirement, str) and requirement.replace("_", "-").startswith(name):
            return requirement
    return None


def add_shim(conftest: Path) -> None:
    conftest.write_text(conftest.read_text() + SHIM)


# -- running -------------------------------------------------------------------------------------
def run_both(python: str, suite: Path, extra: list[str]) -> dict[str, dict | None]:
    import yizhan
    from yizhan.testing.rabbitmq import RabbitMQReference

    results: dict[str, dict | None] = {}
    with yizhan.Server(port=0, amqp_port=0, http_port=0) as server:
        results["yizhan"] = run_suite(python, suite, server.amqp_url, "yizhan", extra)
    with RabbitMQReference() as rabbit:
        results["RabbitMQ"] = run_suite(python, suite, rabbit.url, "rabbitmq", extra)
    return results


def run_suite(python: str, suite: Path, url: str, name: str, extra: list[str]) -> dict | None:
    report = suite / f"junit-{name}.xml"
    command = [python, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:yizhan", "-q",
               f"--junitxml={report}", "tests", *extra]
    print(f"\n=== aiormq suite against {name}: AMQP_URL={url}", flush=True)
    env = dict(os.environ, AMQP_URL=url)
    try:
        subprocess.run(command, cwd=suite, env=env, timeout=SUITE_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"the run against {name} took more than {SUITE_TIMEOUT} s and was stopped")
    return counts(report) if report.exists() else None


def counts(report: Path) -> dict:
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    root = ET.parse(report).getroot()
    for suite in root.iter("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
    totals["passed"] = totals["tests"] - totals["failures"] - totals["errors"] - totals["skipped"]
    return totals


def report(version: str, results: dict[str, dict | None]) -> None:
    print(f"\naiormq {version} test suite (its tests/ folder from the PyPI sdist):")
    for name, result in results.items():
        if result is None:
            print(f"  {name:9} did not run to the end")
        else:
            print(f"  {name:9} {result['passed']} passed, {result['failures']} failed, {result['errors']} errors, "
                  f"{result['skipped']} skipped, of {result['tests']}")


if __name__ == "__main__":
    sys.exit(main())
