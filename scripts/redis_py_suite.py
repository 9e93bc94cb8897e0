"""Run redis-py's own test suite against yizhan and against redis-server, and compare.

    python scripts/redis_py_suite.py [--files tests/test_commands.py ...] [--keep DIR]

The suite comes from the sdist on PyPI of the installed redis-py version (never committed).
Both servers are started here on free ports. The report counts, among the tests that pass on
redis-server, how many pass on yizhan, leaving out what yizhan does not claim yet (modules,
cluster, sentinel, scripting, functions, streams, ...), and lists the rest by category.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import redis

import yizhan
from yizhan.testing.reference import RedisReference

DEFAULT_FILES = [
    "tests/test_commands.py", "tests/test_pipeline.py", "tests/test_pubsub.py", "tests/test_encoding.py",
    "tests/test_lock.py", "tests/test_connection_pool.py", "tests/test_keyspace_notifications.py",
    "tests/test_asyncio/test_commands.py", "tests/test_asyncio/test_pipeline.py",
    "tests/test_asyncio/test_pubsub.py", "tests/test_asyncio/test_lock.py",
]
# Features yizhan does not have (7.0's module, cluster and sentinel commands, FAILOVER, and what
# came after 7.0: CLIENT NO-TOUCH, hash field expiry, vector sets, the modules' commands): not
# counted either way. Matched against the test function's name.
EXCLUDED_TESTS = re.compile(
    r"^test_(tfunction|module|cluster|sentinel|failover|client_no_touch|"
    r"hexpire|hpexpire|httl|hpttl|hpersist|hexpiretime|hpexpiretime|hgetdel|hgetex|hsetex|vset|json|"
    r"search|ft_|bf_|cf_|cms_|topk|tdigest|ts_)", re.I)
EXCLUDED_MODULES = ()


def excluded(test: str) -> bool:
    module, _, name = test.partition("::")
    return module.startswith(EXCLUDED_MODULES) or bool(EXCLUDED_TESTS.search(name.split("::")[-1]))


def fetch_suite(workdir: Path) -> Path:
    version = redis.__version__
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps",
                    f"redis=={version}", "-d", str(workdir)], check=True)
    archive = next(workdir.glob(f"redis-{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / f"redis-{version}"


def run_suite(source: Path, port: int, files: list[str], junit: Path) -> dict[str, str]:
    subprocess.run(
        [sys.executable, "-m", "pytest", *files, f"--redis-url=redis://127.0.0.1:{port}", "-q",
         "-p", "no:cacheprovider", "-p", "no:randomly", "-m", "not onlycluster and not redismod and not ssl",
         f"--junitxml={junit}", "-o", "addopts=", "--timeout=60"],
        cwd=source, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return read_junit(junit)


def read_junit(junit: Path) -> dict[str, str]:
    outcomes = {}
    for case in ET.parse(junit).iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("skipped") is not None:
            outcomes[name] = "skipped"
        elif case.find("failure") is not None or case.find("error") is not None:
            outcomes[name] = "failed"
        else:
            outcomes[name] = "passed"
    return outcomes


def category(test: str) -> str:
    name = test.split("::")[-1]
    name = re.sub(r"\[.*\]$", "", name)
    return re.sub(r"^test_", "", name).split("_")[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", nargs="*", default=DEFAULT_FILES)
    parser.add_argument("--keep", help="directory to keep the downloaded suite in")
    parser.add_argument("--reuse", action="store_true", help="compare the results saved in --keep again")
    args = parser.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="redis-py-suite-"))
    workdir.mkdir(parents=True, exist_ok=True)
    existing = list(workdir.glob(f"redis-{redis.__version__}"))
    source = existing[0] if existing else fetch_suite(workdir)
    if args.reuse:
        theirs, ours = read_junit(workdir / "redis.xml"), read_junit(workdir / "yizhan.xml")
    else:
        with RedisReference() as ref:
            theirs = run_suite(source, ref.port, args.files, workdir / "redis.xml")
        with tempfile.TemporaryDirectory() as data_dir, yizhan.Server(data_dir=data_dir, save="") as server:
            ours = run_suite(source, server.port, args.files, workdir / "yizhan.xml")
    counted = [t for t, o in theirs.items() if o == "passed" and not excluded(t)]
    passing = [t for t in counted if ours.get(t) == "passed"]
    failing = [t for t in counted if ours.get(t) != "passed"]
    total = Counter(theirs.values()), Counter(ours.values())
    print(f"redis-py {redis.__version__} suite, files: {len(args.files)}")
    print(f"redis-server: {dict(total[0])}")
    print(f"yizhan:       {dict(total[1])}")
    share = 100 * len(passing) / max(1, len(counted))
    print(f"of {len(counted)} counted tests passing on redis-server, {len(passing)} pass on yizhan ({share:.1f}%)")
    for name, count in Counter(category(t) for t in failing).most_common():
        print(f"  failing category {name}: {count}")
    (workdir / "failing.txt").write_text("\n".join(failing) + "\n")
    print(f"failing tests listed in {workdir / 'failing.txt'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
