"""HyperLogLog per-operation cost through the server (measured, never asserted in tests).

    python bench/hll_cost.py
"""

import time

import redis

import yizhan


def main() -> None:
    with yizhan.Server() as server:
        client = redis.Redis(port=server.port)
        items = [b"element:%d" % i for i in range(100000)]
        start = time.perf_counter()
        for i in range(0, len(items), 10000):
            client.pfadd("dense", *items[i:i + 10000])
        bulk = (time.perf_counter() - start) / len(items)
        start = time.perf_counter()
        for item in items[:1000]:
            client.pfadd("sparse", item)
        sparse_single = (time.perf_counter() - start) / 1000
        start = time.perf_counter()
        for item in items[:300]:
            client.pfadd("dense", b"again" + item)
            client.pfcount("dense")
        dense_count = (time.perf_counter() - start) / 300
        others = [f"s{i}" for i in range(5)]
        for i, key in enumerate(others):
            client.pfadd(key, *items[i * 500:(i + 1) * 500])
        start = time.perf_counter()
        for _ in range(50):
            client.pfcount("dense", *others)
        multi = (time.perf_counter() - start) / 50
    print(f"PFADD bulk {bulk * 1e6:.1f} us/element; PFADD one element to a sparse HLL "
          f"{sparse_single * 1e6:.0f} us; PFADD+PFCOUNT on dense {dense_count * 1e6:.0f} us; "
          f"PFCOUNT of 6 keys {multi * 1e6:.0f} us")


if __name__ == "__main__":
    main()
