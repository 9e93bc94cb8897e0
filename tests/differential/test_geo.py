"""Differential cases for the geo commands: replies must equal redis-server 7.0's byte for byte,
in RESP2 and RESP3 (scores, coordinates, distances, geohash strings, the order of results
including ties, STORE results, and every error in the order Redis checks for it). A
property-based test throws random coordinates, shapes and options at both servers.
"""

import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

SICILY = ["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]
CITIES = ["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania",
          "2.3522", "48.8566", "Paris", "-0.1276", "51.5072", "London", "12.4964", "41.9028", "Rome",
          "13.4050", "52.5200", "Berlin", "-74.0060", "40.7128", "NewYork", "139.6917", "35.6895", "Tokyo",
          "151.2093", "-33.8688", "Sydney", "-58.3816", "-34.6037", "BuenosAires", "179.9", "0", "East",
          "-179.9", "0", "West", "0", "85.05", "North", "0", "-85.05", "South"]
# Points on the same spot: equal distances, so the order of ties shows.
TIES = ["GEOADD", "t"] + [x for i in range(30) for x in ("10.5", "20.5", "m%02d" % (29 - i))] + \
       [x for i in range(20) for x in ("10.6", "20.5", "n%02d" % i)] + ["10.55", "20.5", "mid"]
SKIPLIST = ["CONFIG", "SET", "zset-max-listpack-entries", "0"]
LISTPACK = ["CONFIG", "SET", "zset-max-listpack-entries", "128"]


def search_variants(*where):
    """One search with each reply option and ordering."""
    return [list(where) + extra for extra in (
        [], ["ASC"], ["DESC"], ["WITHDIST"], ["WITHCOORD"], ["WITHHASH"], ["WITHDIST", "WITHHASH", "WITHCOORD", "ASC"],
        ["COUNT", "3"], ["COUNT", "3", "DESC"], ["COUNT", "1", "ANY"], ["COUNT", "2", "ANY", "WITHDIST"],
        ["withcoord", "withdist", "desc", "count", "100"])]


def dense_grid(key: str, lon0: float, lat0: float, side: int, spacing: float) -> list[str]:
    """`side` x `side` members `spacing` degrees apart around (lon0, lat0), in one GEOADD:
    enough per cell that searches split cells along their shape (geo.py `_points_in_shape`)."""
    args = ["GEOADD", key]
    for i in range(side):
        for j in range(side):
            args += ["%.6f" % (lon0 + (i - side / 2) * spacing), "%.6f" % (lat0 + (j - side / 2) * spacing),
                     "g%d-%d" % (i, j)]
    return args


DENSE = dense_grid("d", 2.3522, 48.8566, 50, 0.004)
DENSE_SEARCHES = [  # edges through the grid, centres on and off grid points, near the cell edges
    ["BYRADIUS", "500", "m"], ["BYRADIUS", "1.3", "km", "WITHDIST", "ASC"], ["BYRADIUS", "4", "km", "COUNT", "7"],
    ["BYRADIUS", "2", "mi", "COUNT", "30", "ANY"], ["BYRADIUS", "9000", "ft", "WITHCOORD", "DESC"],
    ["BYBOX", "3", "2", "km", "ASC"], ["BYBOX", "7.5", "3.2", "km", "WITHDIST", "WITHHASH"],
    ["BYBOX", "1000", "4000", "m", "COUNT", "12", "DESC"], ["BYRADIUS", "12", "km"], ["BYBOX", "25", "25", "km", "ASC"],
    # boxes without distances: parts of cells inside the box are taken whole (`Shape.inner`)
    ["BYBOX", "6", "9", "km"], ["BYBOX", "12", "4", "km", "WITHCOORD"], ["BYBOX", "5", "5", "km", "COUNT", "40", "ANY"],
    ["BYBOX", "20", "20", "km", "WITHHASH"], ["BYBOX", "3.3", "3.3", "mi"],
]
def scatter(key: str, lon0: float, lat0: float, n: int, seed: int) -> list[str]:
    """`n` members at random within about 20 km of (lon0, lat0), in one GEOADD."""
    rng = random.Random(seed)
    args = ["GEOADD", key]
    for i in range(n):
        args += ["%.6f" % (lon0 + rng.uniform(-0.3, 0.3)), "%.6f" % (lat0 + rng.uniform(-0.2, 0.2)), "s%d" % i]
    return args


# COUNT without ANY over a circle: the nearest members come from a smaller circle first
# (geo.py `_nearest`), with ties at the top (members on one spot) left to the full sort
NEAREST = [scatter("n", 2.3522, 48.8566, 1500, 3),
           *[["GEOSEARCH", "n", "FROMLONLAT", "2.3522", "48.8566", "BYRADIUS", radius, "km", "COUNT", count, *extra]
             for radius, count, extra in (("5", "10", ["WITHDIST"]), ("5", "1", []), ("3", "50", ["WITHCOORD", "ASC"]),
                                          ("20", "30", ["WITHDIST", "WITHHASH"]), ("0.8", "4", ["WITHDIST"]),
                                          ("5", "10", ["DESC", "WITHDIST"]), ("5", "2000", ["WITHDIST"]))],
           ["GEOSEARCH", "n", "FROMMEMBER", "s7", "BYRADIUS", "4000", "m", "COUNT", "6", "WITHDIST"],
           ["GEORADIUSBYMEMBER", "n", "s11", "2", "mi", "COUNT", "9", "ASC", "WITHDIST"],
           ["GEORADIUS", "n", "2.36", "48.85", "6", "km", "COUNT", "12", "STOREDIST", "nd"], ["ZRANGE", "nd", "0", "-1", "WITHSCORES"],
           ["GEOSEARCHSTORE", "ns", "n", "FROMLONLAT", "2.34", "48.86", "BYRADIUS", "7", "km", "COUNT", "15"],
           ["ZRANGE", "ns", "0", "-1", "WITHSCORES"],
           *[["GEOSEARCH", "n", "FROMLONLAT", "2.3522", "48.8566", "BYBOX", w, h, "km", *extra]
             for w, h, extra in (("20", "20", []), ("31", "7", ["WITHCOORD"]), ("9", "26", ["COUNT", "300", "ANY"]))],
           ["GEOSEARCHSTORE", "nb", "n", "FROMMEMBER", "s3", "BYBOX", "15", "15", "km"], ["ZRANGE", "nb", "0", "-1", "WITHSCORES"],
           ["GEOADD", "n", *[x for i in range(12) for x in ("2.3523", "48.8567", "tie-%02d" % (11 - i))]],
           *[["GEOSEARCH", "n", "FROMLONLAT", "2.3522", "48.8566", "BYRADIUS", "5", "km", "COUNT", count, "WITHDIST"]
             for count in ("1", "2", "3", "5", "12", "13", "20")]]
DENSE_CENTRES = [("2.3522", "48.8566"), ("2.3611", "48.8401"), ("2.4001", "48.8999"), ("2.2999", "48.9001")]


CASES = {
    # -- GEOADD ----------------------------------------------------------------------------
    "geoadd-basic": [SICILY, ["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"], ["TYPE", "Sicily"],
                     ["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"], ["ZCARD", "Sicily"],
                     ["OBJECT", "ENCODING", "Sicily"], ["GEOADD", "Sicily", "13", "38", "Palermo"],
                     ["ZSCORE", "Sicily", "Palermo"]],
    "geoadd-options": [SICILY, ["GEOADD", "Sicily", "NX", "1", "1", "Palermo", "2", "2", "New"],
                       ["GEOADD", "Sicily", "XX", "3", "3", "Palermo", "4", "4", "Other"],
                       ["GEOADD", "Sicily", "CH", "5", "5", "Palermo", "6", "6", "Another"],
                       ["GEOADD", "Sicily", "xx", "ch", "7", "7", "Palermo"], ["GEOADD", "Sicily", "CH", "NX", "8", "8", "x"],
                       ["GEOADD", "Sicily", "NX", "XX", "1", "1", "a"], ["GEOADD", "Sicily", "XX", "NX", "CH", "1", "1", "a"],
                       ["GEOADD", "Sicily", "GT", "1", "1", "a"], ["GEOADD", "Sicily", "CH", "CH", "CH"],
                       ["GEOADD", "Sicily", "NX", "CH", "XX"], ["GEOADD", "nokey", "XX", "1", "1", "a"], ["EXISTS", "nokey"],
                       ["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"]],
    "geoadd-errors": [["GEOADD", "k", "1", "2"], ["GEOADD", "k", "1", "2", "a", "3"], ["GEOADD", "k"],
                      ["GEOADD", "k", "x", "1", "a"], ["GEOADD", "k", "1", "y", "a"], ["GEOADD", "k", "181", "1", "a"],
                      ["GEOADD", "k", "-180.0001", "1", "a"], ["GEOADD", "k", "1", "85.06", "a"],
                      ["GEOADD", "k", "1", "-85.06", "a"], ["GEOADD", "k", "inf", "1", "a"], ["GEOADD", "k", "1", "-inf", "a"],
                      ["GEOADD", "k", "nan", "1", "a"], ["GEOADD", "k", "1e400", "1", "a"], ["GEOADD", "k", " 1", "1", "a"],
                      ["GEOADD", "k", "1", "1", "a", "200", "1", "b"], ["EXISTS", "k"], ["SET", "s", "x"],
                      ["GEOADD", "s", "1", "1", "a"], ["GEOADD", "s", "1", "100", "a"], ["GEOADD", "k", "0x10", "1", "a"]],
    "geoadd-limits": [["GEOADD", "k", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw", "0", "0", "zero",
                       "180", "0", "e", "-180", "0", "w", "-0", "-0", "negzero", "1e-300", "1e-300", "tiny"],
                      ["ZRANGE", "k", "0", "-1", "WITHSCORES"], ["GEOPOS", "k", "ne", "sw", "zero", "e", "w", "negzero", "tiny"],
                      ["GEOHASH", "k", "ne", "sw", "zero", "e", "w", "negzero", "tiny"], ["GEODIST", "k", "e", "w"],
                      ["GEODIST", "k", "ne", "sw", "km"]],
    "geoadd-skiplist": [SKIPLIST, CITIES, ["OBJECT", "ENCODING", "g"], ["GEOPOS", "g", "Tokyo", "Sydney"],
                        ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "20000", "km", "WITHDIST"], LISTPACK],
    "geoadd-notifies": [["CONFIG", "SET", "notify-keyspace-events", "KEA"], SICILY,
                        ["CONFIG", "SET", "notify-keyspace-events", ""]],
    # -- GEOPOS / GEOHASH / GEODIST ----------------------------------------------------------
    "geopos": [SICILY, ["GEOPOS", "Sicily", "Palermo", "Catania", "NonExisting"], ["GEOPOS", "Sicily"],
               ["GEOPOS", "nokey", "a", "b"], ["GEOPOS", "nokey"], ["SET", "s", "x"], ["GEOPOS", "s", "a"], ["GEOPOS"]],
    "geopos-non-geo-scores": [["ZADD", "z", "-1", "neg", "1.5", "frac", "1e30", "huge", "inf", "pinf", "-inf", "ninf",
                               "4503599627370496", "p52", "9007199254740993", "p53", "-1e30", "nhuge",
                               "18446744073709551615", "u64", "9223372036854775808", "p63"],
                              ["GEOPOS", "z", "neg", "frac", "huge", "pinf", "ninf", "p52", "p53", "nhuge", "u64", "p63"],
                              ["GEOHASH", "z", "neg", "frac", "huge", "pinf", "ninf", "p52", "p53", "nhuge", "u64", "p63"],
                              ["GEODIST", "z", "neg", "frac"], ["GEODIST", "z", "ninf", "pinf", "mi"]],
    "geohash": [SICILY, ["GEOHASH", "Sicily", "Palermo", "Catania", "nope"], ["GEOHASH", "Sicily"],
                ["GEOHASH", "nokey", "a"], CITIES, ["GEOHASH", "g", "Paris", "London", "Sydney", "North", "South", "East", "West"],
                ["SET", "s", "x"], ["GEOHASH", "s", "a"]],
    "geodist": [SICILY, ["GEODIST", "Sicily", "Palermo", "Catania"], ["GEODIST", "Sicily", "Palermo", "Catania", "km"],
                ["GEODIST", "Sicily", "Palermo", "Catania", "MI"], ["GEODIST", "Sicily", "Palermo", "Catania", "Ft"],
                ["GEODIST", "Sicily", "Palermo", "Catania", "m"], ["GEODIST", "Sicily", "Palermo", "Palermo"],
                ["GEODIST", "Sicily", "Palermo", "nope"], ["GEODIST", "nokey", "a", "b"],
                ["GEODIST", "Sicily", "Palermo", "Catania", "yards"], ["GEODIST", "nokey", "a", "b", "yards"],
                ["GEODIST", "Sicily", "Palermo", "Catania", "km", "extra"], ["GEODIST", "Sicily", "Palermo"],
                ["GEODIST", "Sicily", "Palermo", "Catania", "k\x00m"], ["GEODIST", "Sicily", "Palermo", "Catania", "m\x00x"],
                ["SET", "s", "x"], ["GEODIST", "s", "a", "b"], ["GEODIST", "s", "a", "b", "bad"],
                CITIES, ["GEODIST", "g", "East", "West"], ["GEODIST", "g", "North", "South", "km"],
                ["GEODIST", "g", "Tokyo", "NewYork", "mi"], ["GEODIST", "g", "Sydney", "London", "ft"]],
    # -- GEORADIUS / GEORADIUSBYMEMBER -----------------------------------------------------
    "georadius": [CITIES] + search_variants("GEORADIUS", "g", "15", "37", "200", "km")
                 + search_variants("GEORADIUS_RO", "g", "2", "48", "1000", "km")
                 + search_variants("GEORADIUS", "g", "0", "0", "20000", "km")
                 + [["GEORADIUS", "g", "15", "37", "0", "km"], ["GEORADIUS", "g", "13.361389", "38.115556", "0", "m"],
                    ["GEORADIUS", "nokey", "15", "37", "200", "km"], ["GEORADIUS", "g", "15", "37", "200", "KM", "WITHDIST"],
                    ["GEORADIUS", "g", "15", "37", "200", "mi", "WITHDIST"], ["GEORADIUS", "g", "15", "37", "200", "ft", "WITHDIST"]],
    "georadiusbymember": [CITIES] + search_variants("GEORADIUSBYMEMBER", "g", "Palermo", "500", "km")
                         + search_variants("GEORADIUSBYMEMBER_RO", "g", "North", "5000", "km")
                         + [["GEORADIUSBYMEMBER", "g", "nope", "100", "km"], ["GEORADIUSBYMEMBER", "nokey", "nope", "100", "km"],
                            ["GEORADIUSBYMEMBER", "nokey", "a", "x", "km", "WITHDIST"],
                            ["GEORADIUSBYMEMBER", "nokey", "a", "1", "km", "STORE", "d"], ["GEORADIUSBYMEMBER", "g", "nope", "x", "y"]],
    "georadius-errors": [CITIES, ["GEORADIUS", "g", "200", "0", "1", "km"], ["GEORADIUS", "g", "x", "0", "1", "km"],
                         ["GEORADIUS", "g", "0", "0", "x", "km"], ["GEORADIUS", "g", "0", "0", "-1", "km"],
                         ["GEORADIUS", "g", "0", "0", "1", "yd"], ["GEORADIUS", "g", "0", "0", "1", "km", "BOGUS"],
                         ["GEORADIUS", "g", "0", "0", "1", "km", "COUNT"], ["GEORADIUS", "g", "0", "0", "1", "km", "COUNT", "0"],
                         ["GEORADIUS", "g", "0", "0", "1", "km", "COUNT", "-5"], ["GEORADIUS", "g", "0", "0", "1", "km", "COUNT", "x"],
                         ["GEORADIUS", "g", "0", "0", "1", "km", "ANY"], ["GEORADIUS", "g", "0", "0", "1", "km", "ANY", "COUNT", "x"],
                         ["GEORADIUS", "g", "0", "0", "1", "km", "STORE"], ["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d", "WITHDIST"],
                         ["GEORADIUS", "g", "0", "0", "1", "km", "WITHHASH", "STOREDIST", "d"],
                         ["GEORADIUS_RO", "g", "0", "0", "1", "km", "STORE", "d"], ["GEORADIUS", "g", "0", "0", "1", "km", "FROMMEMBER", "x"],
                         ["GEORADIUS", "g", "0", "0", "1", "km", "BYRADIUS", "1", "km"], ["GEORADIUS", "g", "0", "0", "1"],
                         ["GEORADIUS", "g", "0", "0", "1", "km", "COUNT", "99999999999999999999"],
                         ["SET", "s", "x"], ["GEORADIUS", "s", "0", "0", "1", "km"], ["GEORADIUS", "s", "500", "0", "1", "km"],
                         ["GEORADIUSBYMEMBER", "s", "a", "1", "km"], ["GEORADIUS", "nokey", "500", "0", "1", "km"],
                         ["GEORADIUS", "nokey", "0", "0", "1", "km", "BOGUS"]],
    "georadius-store": [CITIES, ["GEORADIUS", "g", "15", "37", "1000", "km", "STORE", "dst"],
                        ["ZRANGE", "dst", "0", "-1", "WITHSCORES"], ["OBJECT", "ENCODING", "dst"],
                        ["GEORADIUS", "g", "15", "37", "1000", "km", "STOREDIST", "dst"], ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
                        ["GEORADIUS", "g", "15", "37", "1000", "km", "STOREDIST", "dst", "COUNT", "2", "DESC"],
                        ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
                        ["GEORADIUSBYMEMBER", "g", "Paris", "500", "mi", "STORE", "dst2", "ASC"], ["ZRANGE", "dst2", "0", "-1", "WITHSCORES"],
                        ["GEORADIUS", "g", "100", "10", "1", "km", "STORE", "dst2"], ["EXISTS", "dst2"],
                        ["GEORADIUS", "nokey", "100", "10", "1", "km", "STORE", "dst"], ["EXISTS", "dst"],
                        ["SET", "s", "x"], ["GEORADIUS", "g", "15", "37", "1000", "km", "STORE", "s"], ["TYPE", "s"],
                        ["GEORADIUS", "g", "15", "37", "1000", "km", "STORE", "g"], ["ZRANGE", "g", "0", "-1", "WITHSCORES"]],
    "georadius-store-skiplist": [CITIES, ["CONFIG", "SET", "zset-max-listpack-entries", "3"],
                                 ["GEORADIUS", "g", "0", "0", "20000", "km", "STORE", "dst"], ["OBJECT", "ENCODING", "dst"],
                                 ["GEORADIUS", "g", "0", "0", "20000", "km", "STORE", "dst", "COUNT", "3"],
                                 ["OBJECT", "ENCODING", "dst"], LISTPACK],
    # -- GEOSEARCH / GEOSEARCHSTORE ---------------------------------------------------------
    "geosearch": [CITIES] + search_variants("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")
                 + search_variants("GEOSEARCH", "g", "FROMMEMBER", "Paris", "BYBOX", "2000", "1500", "km")
                 + search_variants("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "40000", "20000", "km")
                 + search_variants("geosearch", "g", "frommember", "Sydney", "byradius", "12000", "mi")
                 + [["GEOSEARCH", "g", "FROMLONLAT", "-20", "-40", "BYBOX", "0", "0", "m"],
                    ["GEOSEARCH", "g", "BYRADIUS", "100", "km", "FROMMEMBER", "Rome", "WITHDIST"],
                    ["GEOSEARCH", "g", "FROMMEMBER", "Rome", "FROMMEMBER", "Paris", "BYRADIUS", "10", "km"],
                    ["GEOSEARCH", "g", "FROMMEMBER", "Rome", "BYRADIUS", "1", "km", "BYRADIUS", "2000", "km"],
                    ["GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"]],
    "geosearch-errors": [CITIES, ["GEOSEARCH", "g", "BYRADIUS", "1", "km", "WITHDIST"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "WITHDIST", "ASC"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "FROMMEMBER", "Paris", "BYRADIUS", "1", "km"],
                         ["GEOSEARCH", "g", "FROMMEMBER", "Paris", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
                         ["GEOSEARCH", "g", "FROMMEMBER", "Paris", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"],
                         ["GEOSEARCH", "g", "FROMMEMBER", "Paris", "BYBOX", "1", "1", "km", "BYRADIUS", "1", "km"],
                         ["GEOSEARCH", "g", "FROMMEMBER", "nope", "BYRADIUS", "1", "km"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "100", "BYRADIUS", "1", "km"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "-1", "km"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "x", "km"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "x", "1", "km"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "1", "x", "km"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "-1", "1", "km"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "1", "-1", "parsecs"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "1", "1", "parsecs"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "1", "1"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "STORE", "d"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "STOREDIST"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "ANY"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "COUNT", "0"],
                         ["GEOSEARCH", "g", "FROMLONLAT", "0", "0"], ["GEOSEARCH", "g", "FROMMEMBER", "x", "BYRADIUS"],
                         ["SET", "s", "x"], ["GEOSEARCH", "s", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
                         ["GEOSEARCH", "nokey", "FROMLONLAT", "0", "0", "WITHDIST", "ANY"],
                         ["GEOSEARCH", "nokey", "BYRADIUS", "1", "km", "FROMMEMBER", "a"]],
    "geosearchstore": [CITIES, ["GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1000", "km"],
                       ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
                       ["GEOSEARCHSTORE", "dst", "g", "FROMMEMBER", "Paris", "BYBOX", "3000", "3000", "km", "STOREDIST"],
                       ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
                       ["GEOSEARCHSTORE", "dst", "g", "FROMMEMBER", "Paris", "BYBOX", "3000", "3000", "km", "COUNT", "2",
                        "DESC", "STOREDIST"], ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
                       ["GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "100", "10", "BYRADIUS", "1", "km"], ["EXISTS", "dst"],
                       ["GEOSEARCHSTORE", "dst", "nokey", "FROMLONLAT", "100", "10", "BYRADIUS", "1", "km"],
                       ["GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "WITHDIST"],
                       ["GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "STORE", "x"],
                       ["GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "WITHHASH", "STOREDIST"],
                       ["GEOSEARCHSTORE", "dst", "g", "BYRADIUS", "1", "km"], ["GEOSEARCHSTORE", "dst", "g", "FROMMEMBER", "Rome"],
                       ["geosearchstore", "dst", "g", "FROMMEMBER", "Rome", "COUNT", "1"],
                       ["SET", "s", "x"], ["GEOSEARCHSTORE", "s", "g", "FROMMEMBER", "Rome", "BYRADIUS", "10", "km"], ["TYPE", "s"],
                       ["GEOSEARCHSTORE", "dst", "s", "FROMMEMBER", "Rome", "BYRADIUS", "10", "km"]],
    "geosearch-ties": [TIES] + search_variants("GEOSEARCH", "t", "FROMLONLAT", "10.55", "20.5", "BYRADIUS", "50", "km")
                      + [["GEOSEARCH", "t", "FROMLONLAT", "10.5", "20.5", "BYRADIUS", "50", "km", "COUNT", str(n), order]
                         for n in (1, 5, 6, 7, 8, 29, 30, 31, 40, 41, 50) for order in ("ASC", "DESC")]
                      + [["GEOSEARCHSTORE", "d", "t", "FROMLONLAT", "10.5", "20.5", "BYRADIUS", "50", "km", "COUNT", "13"],
                         ["ZRANGE", "d", "0", "-1"]],
    "geosearch-ties-skiplist": [SKIPLIST, TIES,
                                ["GEOSEARCH", "t", "FROMMEMBER", "mid", "BYBOX", "30", "30", "km", "COUNT", "45", "DESC"],
                                ["GEOSEARCH", "t", "FROMMEMBER", "mid", "BYBOX", "30", "30", "km", "COUNT", "3", "ANY"], LISTPACK],
    "geosearch-extreme-sizes": [
        ["GEOADD", "g", "0", "0", "a", "10", "10", "b", "-170", "80", "c", "179.999", "-85", "d"],
        ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "inf", "m", "WITHDIST"],
        ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1e300", "km", "WITHDIST"],
        ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "inf", "1", "m"], ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "1", "inf", "m"],
        ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "1e308", "1e308", "mi"], ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "0", "inf", "km"],
        ["GEOSEARCH", "g", "FROMLONLAT", "0", "85", "BYBOX", "50000", "50000", "km", "WITHDIST"],
        ["GEOSEARCH", "g", "FROMLONLAT", "180", "85.05112878", "BYRADIUS", "20000", "km", "WITHDIST"],
        ["GEOSEARCH", "g", "FROMLONLAT", "-180", "-85.05112878", "BYRADIUS", "100", "km", "WITHDIST"],
        ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1e-300", "m", "WITHDIST"],
        ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "5e-324", "m", "WITHDIST"],
        ["GEOSEARCH", "g", "FROMMEMBER", "d", "BYRADIUS", "100000", "km", "WITHDIST", "COUNT", "2", "DESC"],
        ["GEORADIUS", "g", "0", "0", "inf", "km", "STOREDIST", "x"], ["ZRANGE", "x", "0", "-1", "WITHSCORES"],
        ["GEOSEARCH", "g", "FROMLONLAT", "-0", "-0", "BYRADIUS", "-0", "km", "WITHDIST", "WITHCOORD"]],
    # centres on the range's upper edges: geohashEncode's index is 2**step there (the centre
    # cell keeps that bit, its moved neighbours wrap), at small steps and at step 26
    "geosearch-range-edges": [
        ["GEOADD", "e", "180", "85.05112878", "ne", "179.9999", "85.05", "near-ne", "180", "0", "e",
         "179.99", "0.001", "near-e", "-180", "-85.05112878", "sw", "0", "85.05112878", "n", "-179.999", "0", "w"],
        *[["GEOSEARCH", "e", "FROMLONLAT", lon, lat, *shape, "WITHDIST", "WITHHASH", "ASC"]
          for lon, lat in (("180", "85.05112878"), ("180", "0"), ("0", "85.05112878"), ("-180", "-85.05112878"))
          for shape in (["BYRADIUS", "0", "m"], ["BYRADIUS", "3", "km"], ["BYRADIUS", "300", "km"],
                        ["BYBOX", "10", "10", "km"], ["BYBOX", "0", "0", "m"])],
        ["GEOSEARCH", "e", "FROMMEMBER", "ne", "BYRADIUS", "100", "km", "ASC"],
        ["GEORADIUS", "e", "180", "0", "0", "m", "WITHHASH"], ["GEORADIUS", "e", "180", "0", "2", "km", "WITHCOORD"]],
    "geosearch-nearest": NEAREST,
    "geosearch-dense": [DENSE] + [["GEOSEARCH", "d", "FROMLONLAT", lon, lat, *shape]
                                  for lon, lat in DENSE_CENTRES for shape in DENSE_SEARCHES]
                       + [["GEOSEARCH", "d", "FROMMEMBER", "g10-37", *shape] for shape in DENSE_SEARCHES]
                       + [["GEORADIUS", "d", "2.36", "48.86", "3", "km", "COUNT", "20", "WITHDIST"],
                          ["GEOSEARCHSTORE", "dd", "d", "FROMLONLAT", "2.35", "48.85", "BYBOX", "5", "5", "km", "STOREDIST"],
                          ["ZRANGE", "dd", "0", "-1", "WITHSCORES"]],
    "geo-with-zset-commands": [CITIES, ["ZREM", "g", "Paris"], ["GEOPOS", "g", "Paris"], ["ZINCRBY", "g", "1", "Rome"],
                               ["GEOPOS", "g", "Rome"], ["ZADD", "g", "0", "zero"], ["GEOPOS", "g", "zero"],
                               ["GEOSEARCH", "g", "FROMMEMBER", "zero", "BYRADIUS", "100", "km", "WITHCOORD"],
                               ["GEORADIUS", "g", "-180", "-85", "100", "km", "WITHHASH"]],
    "geo-in-multi": [["MULTI"], SICILY, ["GEODIST", "Sicily", "Palermo", "Catania"], ["GEOPOS", "Sicily", "Palermo"],
                     ["GEOADD", "Sicily", "500", "1", "x"], ["EXEC"]],
    "geo-command-info": [["COMMAND", "INFO", "geoadd", "geodist", "geohash", "geopos", "georadius_ro",
                          "georadiusbymember_ro", "geosearch"]],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    differential.check(CASES[name], proto=proto)


# -- property-based: random positions, shapes and options --------------------------------
LONGITUDES = st.floats(min_value=-180, max_value=180)
LATITUDES = st.floats(min_value=-85.05112878, max_value=85.05112878)
NEAR = st.floats(min_value=-2, max_value=2)


@st.composite
def populations(draw):
    """Members around a random centre (so searches find some), plus a few anywhere."""
    lon0, lat0 = draw(LONGITUDES), draw(st.floats(min_value=-80, max_value=80))
    n = draw(st.integers(min_value=1, max_value=40))
    args = ["GEOADD", "p"]
    for i in range(n):
        if draw(st.booleans()):
            lon = min(180.0, max(-180.0, lon0 + draw(NEAR)))
            lat = min(85.0, max(-85.0, lat0 + draw(NEAR)))
        else:
            lon, lat = draw(LONGITUDES), draw(LATITUDES)
        args += [repr(lon), repr(lat), "m%d" % draw(st.integers(min_value=0, max_value=n))]
    return lon0, lat0, args


UNITS = st.sampled_from(["m", "km", "mi", "ft", "KM"])
REPLY_OPTIONS = st.lists(st.sampled_from(["WITHDIST", "WITHCOORD", "WITHHASH", "ASC", "DESC"]), max_size=3)


@st.composite
def searches(draw, lon0, lat0):
    center = (["FROMMEMBER", "m0"] if draw(st.booleans())
              else ["FROMLONLAT", repr(lon0 + draw(st.floats(-1, 1))) if abs(lon0) < 179 else repr(lon0),
                    repr(lat0)])
    unit = draw(UNITS)
    size = st.one_of(st.floats(min_value=0, max_value=500000).map(repr),
                     st.sampled_from(["0", "inf", "1e300", "5e-324", "20037726.37"]))
    shape = (["BYRADIUS", draw(size), unit] if draw(st.booleans())
             else ["BYBOX", draw(size), draw(size), unit])
    options = draw(REPLY_OPTIONS)
    if draw(st.booleans()):
        options += ["COUNT", str(draw(st.integers(min_value=1, max_value=45)))]
        if draw(st.booleans()):
            options.append("ANY")
    return ["GEOSEARCH", "p", *center, *shape, *options]


@st.composite
def scenarios(draw):
    lon0, lat0, add = draw(populations())
    steps = [add, ["ZRANGE", "p", "0", "-1", "WITHSCORES"], ["GEOPOS", "p", "m0", "m1", "m2"],
             ["GEOHASH", "p", "m0", "m1"], ["GEODIST", "p", "m0", "m1", draw(UNITS)]]
    steps += [draw(searches(lon0, lat0)) for _ in range(draw(st.integers(min_value=1, max_value=5)))]
    radius = repr(draw(st.floats(min_value=0, max_value=3000)))
    steps.append(["GEORADIUSBYMEMBER", "p", "m0", radius, "km", "WITHDIST", "WITHCOORD"])
    steps.append(["GEORADIUS", "p", repr(lon0), repr(lat0), radius, "km", "STOREDIST", "d"])
    steps.append(["ZRANGE", "d", "0", "-1", "WITHSCORES"])
    return steps


@pytest.mark.parametrize("proto", [2, 3])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=scenarios())
def test_random_positions_and_searches_match_redis(differential, proto, steps):
    differential.check(steps, proto=proto)
