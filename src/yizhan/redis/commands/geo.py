"""Geo commands (geo.c), as Redis 7.0: GEOADD, GEODIST, GEOHASH, GEOPOS, GEORADIUS[_RO],
GEORADIUSBYMEMBER[_RO], GEOSEARCH and GEOSEARCHSTORE.

Positions live in sorted sets (TYPE zset), scored by their 52-bit geohash; the arithmetic is in
types/geohash.py. GEOADD is ZADD with scores made from coordinates, as in Redis. A search visits
the nine cells of `geohash.search_area` in Redis's order, keeps the members inside the shape,
and sorts them the way redis-server does: glibc's qsort (a stable merge sort on this platform)
when all results are returned, Redis's partial quicksort (`redis/pqsort.py`, pqsort.c) when COUNT
cuts them, so equal distances come out in the same order on both servers.

Replies format numbers as Redis does: distances with four decimals (fixedpoint_d2string),
coordinates with ld2string's human form ("%.17Lf" trimmed), a RESP3 double in RESP3.
"""

from __future__ import annotations

from bisect import bisect_left
from operator import itemgetter

from yizhan.redis import errors
from yizhan.redis.args import option_word, parse_int
from yizhan.redis.floats import format_long_double_human, parse_double
from yizhan.redis.pqsort import pqsort
from yizhan.redis.keyspace import GENERIC, ZSET
from yizhan.redis.table import command
from yizhan.redis.types import geohash
from yizhan.redis.types.geohash import Shape
from yizhan.redis.types.zsets import Limits, ZSet, from_items
from yizhan.resp import ErrorReply, NULL_ARRAY, Raw

_GROUP = "geo"
_UNITS = {b"M": 1.0, b"KM": 1000.0, b"FT": 0.3048, b"MI": 1609.34}
_UNITS.update({name.lower(): factor for name, factor in _UNITS.items()})
_SEARCH_COMPLEXITY = ("O(N+log(M)) where N is the number of elements inside the bounding box of the "
                      "circular area delimited by center and radius and M is the number of items "
                      "inside the index.")
_GEOSEARCH_COMPLEXITY = ("O(N+log(M)) where N is the number of elements in the grid-aligned bounding "
                         "box area around the shape provided as the filter and M is the number of "
                         "items inside the shape")

# georadiusGeneric's flags
_COORDS, _MEMBER, _NOSTORE, _SEARCH, _SEARCHSTORE = 1, 2, 4, 8, 16


# -- argument parsing ------------------------------------------------------------------------
def _position(argv: list[bytes], index: int) -> tuple[float, float]:
    """extractLongLatOrReply: a longitude and a latitude inside Redis's limits."""
    longitude = parse_double(argv[index])
    latitude = parse_double(argv[index + 1])
    if not (geohash.LONG_MIN <= longitude <= geohash.LONG_MAX
            and geohash.LAT_MIN <= latitude <= geohash.LAT_MAX):
        raise ErrorReply(errors.geo_position(longitude, latitude))
    return longitude, latitude


def _unit(raw: bytes) -> float:
    """extractUnitOrReply: meters per unit (m, km, ft, mi in any case)."""
    factor = _UNITS.get(raw) or _UNITS.get(option_word(raw))
    if factor is None:
        raise ErrorReply(errors.GEO_UNIT)
    return factor


def _radius(argv: list[bytes], index: int) -> tuple[float, float]:
    """extractDistanceOrReply: (radius, meters per unit)."""
    radius = parse_double(argv[index], errors.GEO_RADIUS_NOT_NUMERIC)
    if radius < 0:
        raise ErrorReply(errors.GEO_RADIUS_NEGATIVE)
    return radius, _unit(argv[index + 1])


def _box(argv: list[bytes], index: int) -> tuple[float, float, float]:
    """extractBoxOrReply: (width, height, meters per unit)."""
    width = parse_double(argv[index], errors.GEO_WIDTH_NOT_NUMERIC)
    height = parse_double(argv[index + 1], errors.GEO_HEIGHT_NOT_NUMERIC)
    if height < 0 or width < 0:
        raise ErrorReply(errors.GEO_BOX_NEGATIVE)
    return width, height, _unit(argv[index + 2])


def _member_position(zs: ZSet, member: bytes) -> tuple[float, float]:
    score = zs.scores.get(member)
    if score is None:
        raise ErrorReply(errors.GEO_NO_MEMBER)
    return geohash.decode_score(score)


# -- reply formatting --------------------------------------------------------------------------
def _distance_reply(meters: float) -> bytes:
    """addReplyDoubleDistance: four decimals, rounded half to even as llrint does."""
    fixed = round(meters * 10000.0)
    sign = b"-" if fixed < 0 else b""
    whole, frac = divmod(abs(fixed), 10000)
    return b"%s%d.%04d" % (sign, whole, frac)


def _coordinate_reply(c, value: float):
    """addReplyHumanLongDouble: a bulk string in RESP2, a double in RESP3."""
    numerator, denominator = value.as_integer_ratio()
    text = format_long_double_human((numerator, 1 - denominator.bit_length()))
    return Raw(b",%b\r\n" % text) if c.proto == 3 else text


def _position_reply(c, longitude: float, latitude: float) -> list:
    return [_coordinate_reply(c, longitude), _coordinate_reply(c, latitude)]


# -- GEOADD ----------------------------------------------------------------------------------
@command("GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]",
         arity=-5, flags="write denyoom", keys=(1, 1, 1), group=_GROUP, since="3.2.0",
         summary="Add one or more geospatial items in the geospatial index represented using a sorted set",
         complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.")
def geoadd(c, argv):
    """ZADD with each longitude/latitude pair turned into its score, as geoaddCommand does."""
    first, nx, xx = 2, False, False
    while first < len(argv):
        option = option_word(argv[first])
        if option == b"NX":
            nx = True
        elif option == b"XX":
            xx = True
        elif option != b"CH":
            break
        first += 1
    if (len(argv) - first) % 3 or (nx and xx):
        raise ErrorReply(errors.SYNTAX)
    if first == len(argv):  # no position at all: ZADD's syntax error, as the C calls it
        raise ErrorReply(errors.SYNTAX)
    ch = any(option_word(option) == b"CH" for option in argv[2:first])
    pairs = []
    for i in range(first, len(argv), 3):
        longitude, latitude = _position(argv, i)
        pairs.append((float(geohash.geo_score(longitude, latitude)), argv[i + 2]))
    return _add(c, argv[1], pairs, nx, xx, ch)


def _add(c, key: bytes, pairs: list[tuple[float, bytes]], nx: bool, xx: bool, ch: bool) -> int:
    """What ZADD [NX|XX] [CH] does with these (score, member) pairs (geoaddCommand hands its
    rewritten arguments to zaddCommand), through the sorted set type's API."""
    db = c.db
    zs = db.write_typed(key, ZSet)
    created = zs is None
    if created and xx:
        return 0
    limits = Limits(c.server.int_params)
    if created:
        zs = limits.new_zset(pairs[0][1])
    added = updated = 0
    for score, member in pairs:
        current = zs.score(member)
        if current is not None:
            if nx:
                continue
            if score != current:
                zs.rescore(member, current, score)
                updated += 1
        elif not xx:
            limits.make_room(zs, member)
            zs.insert(member, score)
            added += 1
    if added or updated:
        if created:
            db.store(key, zs)
        db.commit(key, ZSET, "zadd", added + updated)
    return added + updated if ch else added


# -- reading positions -----------------------------------------------------------------------
@command("GEODIST key member1 member2 [M | KM | FT | MI]", arity=-4, flags="readonly", keys=(1, 1, 1),
         group=_GROUP, since="3.2.0", summary="Returns the distance between two members of a geospatial index",
         complexity="O(log(N))")
def geodist(c, argv):
    to_meters = 1.0
    if len(argv) == 5:
        to_meters = _unit(argv[4])
    elif len(argv) > 5:
        raise ErrorReply(errors.SYNTAX)
    zs = c.db.read_typed(argv[1], ZSet)
    if zs is None:
        return None
    score1, score2 = zs.scores.get(argv[2]), zs.scores.get(argv[3])
    if score1 is None or score2 is None:
        return None
    lon1, lat1 = geohash.decode_score(score1)
    lon2, lat2 = geohash.decode_score(score2)
    return _distance_reply(geohash.distance(lon1, lat1, lon2, lat2) / to_meters)


@command("GEOHASH key [member [member ...]]", arity=-2, flags="readonly", keys=(1, 1, 1), group=_GROUP,
         since="3.2.0", summary="Returns members of a geospatial index as standard geohash strings",
         complexity="O(log(N)) for each member requested, where N is the number of elements in the sorted set.")
def geohash_command(c, argv):
    zs = c.db.read_typed(argv[1], ZSet)
    scores = zs.scores if zs is not None else {}
    reply = []
    for member in argv[2:]:
        score = scores.get(member)
        reply.append(None if score is None else geohash.standard_geohash(*geohash.decode_score(score)))
    return reply


@command("GEOPOS key [member [member ...]]", arity=-2, flags="readonly", keys=(1, 1, 1), group=_GROUP,
         since="3.2.0", summary="Returns longitude and latitude of members of a geospatial index",
         complexity="O(N) where N is the number of members requested.")
def geopos(c, argv):
    zs = c.db.read_typed(argv[1], ZSet)
    scores = zs.scores if zs is not None else {}
    reply = []
    for member in argv[2:]:
        score = scores.get(member)
        reply.append(NULL_ARRAY if score is None else _position_reply(c, *geohash.decode_score(score)))
    return reply


# -- searches --------------------------------------------------------------------------------
class _Query:
    """georadiusGeneric's parsed arguments: the shape's centre, size and unit, the reply and
    store options."""

    __slots__ = ("center", "radius", "box", "conversion", "withdist", "withhash", "withcoord",
                 "frommember", "fromloc", "byradius", "bybox", "sort", "any", "count", "storekey",
                 "storedist")

    def __init__(self):
        self.center = (0.0, 0.0)
        self.radius: float | None = None  # a circle's radius; None for a box
        self.box = (0.0, 0.0)
        self.conversion = 0.0
        self.withdist = self.withhash = self.withcoord = False
        self.frommember = self.fromloc = self.byradius = self.bybox = False
        self.sort = 0  # 0: as found, 1: ascending, -1: descending
        self.any = False
        self.count = 0
        self.storekey: bytes | None = None
        self.storedist = False

    def shape(self) -> Shape:
        longitude, latitude = self.center
        if self.radius is not None:
            return Shape(longitude, latitude, self.conversion, radius=self.radius)
        width, height = self.box
        return Shape(longitude, latitude, self.conversion, width=width, height=height)

    def parse_options(self, argv: list[bytes], base: int, flags: int, zs: ZSet | None) -> None:
        """The arguments after `base`, with georadiusGeneric's rules for which command takes
        which option (an option it does not take, or one short of arguments: syntax error)."""
        search = bool(flags & _SEARCH)
        store_allowed = not flags & (_NOSTORE | _SEARCH)
        i, end = base, len(argv)
        while i < end:
            option = _OPTION_WORDS.get(argv[i]) or option_word(argv[i])
            left = end - i - 1  # arguments after this one
            if option in _FLAG_OPTIONS:
                self._flag(option)
            elif option == b"COUNT" and left >= 1:
                self.count = parse_int(argv[i + 1])
                if self.count <= 0:
                    raise ErrorReply(errors.GEO_COUNT_POSITIVE)
                i += 1
            elif option in (b"STORE", b"STOREDIST") and left >= 1 and store_allowed:
                self.storekey, self.storedist = argv[i + 1], option == b"STOREDIST"
                i += 1
            elif option == b"STOREDIST" and flags & _SEARCHSTORE:
                self.storedist = True
            elif option == b"FROMMEMBER" and left >= 1 and search and not self.fromloc:
                if zs is not None:
                    self.center = _member_position(zs, argv[i + 1])
                self.frommember = True
                i += 1
            elif option == b"FROMLONLAT" and left >= 2 and search and not self.frommember:
                self.center = _position(argv, i + 1)
                self.fromloc = True
                i += 2
            elif option == b"BYRADIUS" and left >= 2 and search and not self.bybox:
                self.radius, self.conversion = _radius(argv, i + 1)
                self.byradius = True
                i += 2
            elif option == b"BYBOX" and left >= 3 and search and not self.byradius:
                width, height, self.conversion = _box(argv, i + 1)
                self.box, self.radius, self.bybox = (width, height), None, True
                i += 3
            else:
                raise ErrorReply(errors.SYNTAX)
            i += 1

    def _flag(self, option: bytes) -> None:
        if option == b"WITHDIST":
            self.withdist = True
        elif option == b"WITHHASH":
            self.withhash = True
        elif option == b"WITHCOORD":
            self.withcoord = True
        elif option == b"ANY":
            self.any = True
        else:
            self.sort = 1 if option == b"ASC" else -1

    def check(self, argv: list[bytes], flags: int) -> None:
        """The errors georadiusGeneric reports once every option is read, in its order."""
        if self.storekey is not None and (self.withdist or self.withhash or self.withcoord):
            what = "GEOSEARCHSTORE" if flags & _SEARCHSTORE else "STORE option in GEORADIUS"
            raise ErrorReply(errors.geo_store_with(what))
        if flags & _SEARCH and not (self.frommember or self.fromloc):
            raise ErrorReply(errors.geo_exactly_one("FROMMEMBER or FROMLONLAT", argv[0]))
        if flags & _SEARCH and not (self.byradius or self.bybox):
            raise ErrorReply(errors.geo_exactly_one("BYRADIUS and BYBOX", argv[0]))
        if self.any and not self.count:
            raise ErrorReply(errors.GEO_ANY_WITHOUT_COUNT)


_FLAG_OPTIONS = frozenset((b"WITHDIST", b"WITHHASH", b"WITHCOORD", b"ANY", b"ASC", b"DESC"))
# the option words as clients usually spell them, found without upper-casing
_OPTION_WORDS = {spelling: word for word in (*_FLAG_OPTIONS, b"COUNT", b"STORE", b"STOREDIST", b"FROMMEMBER",
                                             b"FROMLONLAT", b"BYRADIUS", b"BYBOX")
                 for spelling in (word, word.lower())}


def _search(c, argv, src: int, flags: int):
    """georadiusGeneric: every search command, told apart by `flags`."""
    db = c.db
    zs = db.read_typed(argv[src], ZSet)
    query = _Query()
    if flags & _COORDS:
        base = 6
        query.center = _position(argv, 2)
        query.radius, query.conversion = _radius(argv, 4)
    elif flags & _MEMBER:
        base = 5
        if zs is not None:
            query.center = _member_position(zs, argv[2])
            query.radius, query.conversion = _radius(argv, 3)
    else:
        base = 3 if flags & _SEARCHSTORE else 2
        if flags & _SEARCHSTORE:
            query.storekey = argv[1]
    query.parse_options(argv, base, flags, zs)
    query.check(argv, flags)
    if zs is None:
        if query.storekey is None:
            return []
        _delete_destination(c, query.storekey)
        return 0
    if query.count and not query.sort and not query.any:
        query.sort = 1
    shape = query.shape()
    step, cells = geohash.search_area(shape)
    ranges = _score_ranges(step, cells)
    points = None
    if query.count and query.sort > 0 and not query.any and shape.radius is not None:
        points = _nearest(zs, shape, step, ranges, query.count)
    if points is None:
        distances = bool(query.withdist or query.sort or query.storedist)
        points = _points_in_shape(zs, shape, step, ranges, query.count if query.any else 0, distances)
        if not points and query.storekey is None:
            return []
        returned = len(points) if not query.count or len(points) < query.count else query.count
        if query.sort:
            _sort_points(points, returned, query.sort < 0)
        del points[returned:]
    if query.storekey is None:
        return _search_reply(c, points, query)
    return _store(c, points, query, "geosearchstore" if flags & _SEARCH else "georadiusstore")


def _points_in_shape(zs: ZSet, shape: Shape, step: int, ranges: list, limit: int, distances: bool) -> list[tuple]:
    """membersOfAllNeighbors: (distance, score, member) of each member inside the shape, from
    the score `ranges` of its cells at `step` in their order; with `limit` (COUNT ... ANY), stop
    once that many are found. Within a crowded cell only the parts that meet the shape's band
    are visited (`cell_ranges`), and a member outside the band is passed over before the
    distance: both leave out only members that `contains` refuses. Without `distances`, the
    members of a part inside a box's `inner` region are taken as they are (0.0 for a distance
    nothing reads)."""
    points: list[tuple] = []
    band = shape.band()
    box = band if band is not None else _NO_BAND
    inner = shape.inner() if band is not None and not distances else None
    depth = 3 if inner is not None else 2
    between = zs.between
    collect = shape.collect
    pending: list = []  # members to test, in visiting order (one `collect` for several ranges)
    for low, high, merged in ranges:
        members = between(low, high)
        if band is None or len(members) <= _CROWDED:
            pending += members
            continue

        def crowded(low: int, high: int) -> bool:  # worth splitting: more than a few members
            return bisect_left(members, (high,)) - bisect_left(members, (low,)) > _CROWDED
        for bits, ilat, ilon in merged:
            for part_low, part_high, inside in geohash.cell_ranges(bits, ilat, ilon, step, band, crowded, inner,
                                                                   depth):
                part = members[bisect_left(members, (part_low,)):bisect_left(members, (part_high,))]
                if not inside:
                    pending += part
                    continue
                if pending and collect(pending, box, points, limit, distances):
                    return points
                pending = []
                points += [(0.0, score, member) for score, member in part]
                if limit and len(points) >= limit:
                    del points[limit:]
                    return points
    if pending:
        collect(pending, box, points, limit, distances)
    return points


def _nearest(zs: ZSet, shape: Shape, step: int, ranges: list, count: int) -> list[tuple] | None:
    """The `count` nearest members inside a circle, nearest first (COUNT without ANY, ASC), found
    inside a circle a quarter (then half) as wide around the same centre, or None to search the
    whole circle. Inner distances are the same doubles (same centre, same operations), and
    every member outside the inner circle is farther than any inside; so when the inner circle
    holds more than `count` members and the first `count` + 1 of them by distance are strictly
    increasing, those `count` are what Redis's sort puts first, whatever it does with ties
    further on. Ties among them leave the order to pqsort over the whole result: None."""
    for fraction in (0.25, 0.5):
        inner = Shape(shape.longitude, shape.latitude, shape.conversion, radius=shape.radius * fraction)
        points = _points_in_shape(zs, inner, step, ranges, 0, True)
        if len(points) > count:
            points.sort(key=_distance_of)
            for i in range(count):
                if not points[i][0] < points[i + 1][0]:
                    return None
            del points[count:]
            return points
    return None


def _score_ranges(step: int, cells: list) -> list[tuple]:
    """(low, high, cells): the score ranges of the cells a search visits, in its visiting order:
    a missing neighbour (None) skipped, a cell equal to the one before it (huge radii) skipped
    as Redis does, and a cell whose range starts where the previous one ends merged into it,
    which visits the same members in the same order with one range scan. Bounds are doubles,
    as geoGetPointsInRange receives them."""
    ranges: list[list] = []
    last = None
    shift = 52 - step * 2
    for index, cell in enumerate(cells):
        if cell is None or (last is not None and cell == last):
            continue
        if index:
            last = cell
        bits = cell[0]
        low, high = float(bits << shift), float((bits + 1) << shift)
        if ranges and ranges[-1][1] == low:
            ranges[-1][1] = high
            ranges[-1][2].append(cell)
        else:
            ranges.append([low, high, [cell]])
    return ranges


_INF = float("inf")
_NO_BAND = (-_INF, _INF, -_INF, _INF)
_CROWDED = 24  # members in a cell (or part) above which it is split along the band


def _sort_points(points: list[tuple], returned: int, descending: bool) -> None:
    """By distance: a stable sort when every point is returned (glibc's qsort), Redis's
    partial quicksort of the first `returned` otherwise. When no two distances are equal, any
    correct sort puts the same points first in the same order, so the C-level sort does it."""
    if returned == len(points) or len({point[0] for point in points}) == len(points):
        points.sort(key=_distance_of, reverse=descending)
    else:
        compare = _farther if descending else _nearer
        pqsort(points, compare, 0, returned - 1)


_distance_of = itemgetter(0)


def _nearer(a: tuple, b: tuple) -> int:
    """sort_gp_asc."""
    return 1 if a[0] > b[0] else 0 if a[0] == b[0] else -1


def _farther(a: tuple, b: tuple) -> int:
    return -_nearer(a, b)


def _search_reply(c, points: list[tuple], query: _Query) -> list:
    if not (query.withdist or query.withhash or query.withcoord):
        return [point[2] for point in points]
    conversion = query.conversion
    reply = []
    for meters, score, member in points:
        item = [member]
        if query.withdist:
            item.append(_distance_reply(meters / conversion))
        if query.withhash:
            item.append(int(score))
        if query.withcoord:
            item.append(_position_reply(c, *geohash.decode_score(score)))
        reply.append(item)
    return reply


def _store(c, points: list[tuple], query: _Query, event: str) -> int:
    """The results as a sorted set at the STORE key (scores: geohashes, or distances in the
    query's unit for STOREDIST); no results delete it."""
    key = query.storekey
    if not points:
        _delete_destination(c, key)
        return 0
    conversion = query.conversion
    if query.storedist:
        items = [(member, meters / conversion) for meters, _, member in points]
    else:
        items = [(member, score) for _, score, member in points]
    db = c.db
    db.store(key, from_items(Limits(c.server.int_params), items))
    db.commit(key, ZSET, event, len(points))
    return len(points)


def _delete_destination(c, key: bytes) -> None:
    db = c.db
    if db.remove(key):
        db.commit(key, GENERIC, "del")


@command("GEORADIUS key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] "
         "[COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]", arity=-6,
         flags="write denyoom movablekeys", keys=(1, 1, 1), group=_GROUP, since="3.2.0",
         summary="Query a sorted set representing a geospatial index to fetch members matching a given "
                 "maximum distance from a point", complexity=_SEARCH_COMPLEXITY,
         key_specs="RO access index:1; OW update keyword:STORE:6; OW update keyword:STOREDIST:6")
def georadius(c, argv):
    return _search(c, argv, 1, _COORDS)


@command("GEORADIUSBYMEMBER key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] "
         "[COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]", arity=-5,
         flags="write denyoom movablekeys", keys=(1, 1, 1), group=_GROUP, since="3.2.0",
         summary="Query a sorted set representing a geospatial index to fetch members matching a given "
                 "maximum distance from a member", complexity=_SEARCH_COMPLEXITY,
         key_specs="RO access index:1; OW update keyword:STORE:5; OW update keyword:STOREDIST:5")
def georadiusbymember(c, argv):
    return _search(c, argv, 1, _MEMBER)


@command("GEORADIUS_RO key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] "
         "[COUNT count [ANY]] [ASC | DESC]", arity=-6, flags="readonly", keys=(1, 1, 1), group=_GROUP,
         since="3.2.10", summary="A read-only variant for GEORADIUS", complexity=_SEARCH_COMPLEXITY)
def georadius_ro(c, argv):
    return _search(c, argv, 1, _COORDS | _NOSTORE)


@command("GEORADIUSBYMEMBER_RO key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] "
         "[COUNT count [ANY]] [ASC | DESC]", arity=-5, flags="readonly", keys=(1, 1, 1), group=_GROUP,
         since="3.2.10", summary="A read-only variant for GEORADIUSBYMEMBER", complexity=_SEARCH_COMPLEXITY)
def georadiusbymember_ro(c, argv):
    return _search(c, argv, 1, _MEMBER | _NOSTORE)


@command("GEOSEARCH key FROMMEMBER member | FROMLONLAT longitude latitude BYRADIUS radius M | KM | FT | MI "
         "| BYBOX width height M | KM | FT | MI [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] "
         "[WITHHASH]", arity=-7, flags="readonly", keys=(1, 1, 1), group=_GROUP, since="6.2.0",
         summary="Query a sorted set representing a geospatial index to fetch members inside an area of a "
                 "box or a circle.", complexity=_GEOSEARCH_COMPLEXITY)
def geosearch(c, argv):
    return _search(c, argv, 1, _SEARCH)


@command("GEOSEARCHSTORE destination source FROMMEMBER member | FROMLONLAT longitude latitude BYRADIUS "
         "radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI [ASC | DESC] [COUNT count [ANY]] "
         "[STOREDIST]", arity=-8, flags="write denyoom", keys=(1, 2, 1), group=_GROUP, since="6.2.0",
         summary="Query a sorted set representing a geospatial index to fetch members inside an area of a "
                 "box or a circle, and store the result in another key.", complexity=_GEOSEARCH_COMPLEXITY,
         key_specs="OW update index:1; RO access index:2")
def geosearchstore(c, argv):
    return _search(c, argv, 2, _SEARCH | _SEARCHSTORE)
