"""Redis's geohash arithmetic (geohash.c, geohash_helper.c), step for step, so that scores,
coordinates, distances and the cells a search visits are the very doubles redis-server gets.

A position is stored as a sorted set score: the 52-bit interleave of the latitude and longitude
cells at step 26 (latitude bits even, longitude bits odd; latitude spans -85.05112878..85.05112878
as in Web Mercator). Searches cover their shape with the cell at an estimated step plus its eight
neighbours (`search_area`) and filter the members of those score ranges by distance.
Distances are the haversine formula on a sphere of radius 6372797.560856 m.

The operations follow the C expressions in the same order, with 64-bit wrap-around made
explicit, because every intermediate double shows in replies.
"""

from __future__ import annotations

import math

LONG_MIN, LONG_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -85.05112878, 85.05112878
STEP_MAX = 26  # 26 * 2 = 52 bits: a score
EARTH_RADIUS = 6372797.560856
_MERCATOR_MAX = 20037726.37
_D_R = math.pi / 180.0
_U64 = (1 << 64) - 1
_SPREAD = ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF), (4, 0x0F0F0F0F0F0F0F0F),
           (2, 0x3333333333333333), (1, 0x5555555555555555))


def deg_rad(angle: float) -> float:
    return angle * _D_R


def rad_deg(angle: float) -> float:
    return angle / _D_R


# -- bits ------------------------------------------------------------------------------------
def interleave(x: int, y: int) -> int:
    """The bits of x (< 2**32) on the even positions, those of y on the odd ones."""
    for shift, mask in _SPREAD:
        x = (x | (x << shift)) & mask
        y = (y | (y << shift)) & mask
    return x | (y << 1)


def deinterleave(bits: int) -> tuple[int, int]:
    """The inverse of `interleave`: (even bits, odd bits), unrolled (searches decode cells)."""
    x = bits & 0x5555555555555555
    y = (bits >> 1) & 0x5555555555555555
    x = (x | (x >> 1)) & 0x3333333333333333
    y = (y | (y >> 1)) & 0x3333333333333333
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0F
    y = (y | (y >> 2)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FF
    y = (y | (y >> 4)) & 0x00FF00FF00FF00FF
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFF
    y = (y | (y >> 8)) & 0x0000FFFF0000FFFF
    return (x | (x >> 16)) & 0xFFFFFFFF, (y | (y >> 16)) & 0xFFFFFFFF


def score_bits(score: float) -> int:
    """A score as C's (uint64_t) cast gives it on x86-64 (scores of non-geo members too)."""
    if math.isnan(score) or math.isinf(score):
        return 0 if score > 0 or math.isnan(score) else 1 << 63
    if score < 9223372036854775808.0:
        if score <= -9223372036854775808.0 - 1.0:
            return 1 << 63
        return int(score) & _U64
    if score >= 18446744073709551616.0:
        return 0
    return int(score)


# -- encoding and decoding -------------------------------------------------------------------
def encode(longitude: float, latitude: float, step: int,
           lat_min: float = LAT_MIN, lat_max: float = LAT_MAX) -> int | None:
    """geohashEncode: the cell of a position at `step` bits per axis; None outside the range."""
    if not (LONG_MIN <= longitude <= LONG_MAX and LAT_MIN <= latitude <= LAT_MAX):
        return None
    if not lat_min <= latitude <= lat_max:
        return None
    lat_offset = (latitude - lat_min) / (lat_max - lat_min)
    long_offset = (longitude - LONG_MIN) / (LONG_MAX - LONG_MIN)
    lat_offset *= 1 << step
    long_offset *= 1 << step
    return interleave(int(lat_offset) & 0xFFFFFFFF, int(long_offset) & 0xFFFFFFFF)


def geo_score(longitude: float, latitude: float) -> int:
    """The sorted set score of a position (geohashAlign52Bits of the step-26 cell)."""
    return encode(longitude, latitude, STEP_MAX)


def cell_area(bits: int, step: int) -> tuple[float, float, float, float]:
    """geohashDecode: (long_min, long_max, lat_min, lat_max) of a cell."""
    ilato, ilono = deinterleave(bits)
    scale = 1 << step
    lat_scale = LAT_MAX - LAT_MIN
    long_scale = LONG_MAX - LONG_MIN
    return (LONG_MIN + (ilono * 1.0 / scale) * long_scale,
            LONG_MIN + ((ilono + 1) * 1.0 / scale) * long_scale,
            LAT_MIN + (ilato * 1.0 / scale) * lat_scale,
            LAT_MIN + ((ilato + 1) * 1.0 / scale) * lat_scale)


def _decode_score(score: float) -> tuple[float, float]:
    long_min, long_max, lat_min, lat_max = cell_area(score_bits(score), STEP_MAX)
    longitude = (long_min + long_max) / 2
    latitude = (lat_min + lat_max) / 2
    longitude = min(max(longitude, LONG_MIN), LONG_MAX)
    latitude = min(max(latitude, LAT_MIN), LAT_MAX)
    return longitude, latitude


# Positions already decoded, by score: decoding is a pure function of the score and costs
# microseconds in Python, and searches decode every candidate. Bounded: cleared when full.
DECODED: dict[float, tuple[float, float]] = {}
_DECODED_MAX = 1 << 16


def decode_score(score: float) -> tuple[float, float]:
    """(longitude, latitude) of a member: the centre of its step-26 cell, clamped to the range
    (geohashDecodeToLongLatWGS84)."""
    position = DECODED.get(score)
    if position is None:
        position = _decode_score(score)
        if len(DECODED) >= _DECODED_MAX:
            DECODED.clear()
        DECODED[score] = position
    return position


def standard_geohash(longitude: float, latitude: float) -> bytes:
    """The 11-character geohash string GEOHASH prints (latitude re-encoded over -90..90; the
    eleventh character stands for bits Redis does not keep, always '0')."""
    bits = encode(longitude, latitude, STEP_MAX, -90.0, 90.0)
    alphabet = b"0123456789bcdefghjkmnpqrstuvwxyz"
    chars = bytes(alphabet[(bits >> (52 - (i + 1) * 5)) & 0x1F] for i in range(10))
    return chars + b"0"


# -- distances -------------------------------------------------------------------------------
def lat_distance(lat1: float, lat2: float) -> float:
    """geohashGetLatDistance."""
    return EARTH_RADIUS * abs(lat2 * _D_R - lat1 * _D_R)


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """geohashGetDistance: haversine on Redis's sphere, in meters (deg_rad inlined)."""
    v = _sin((lon2 * _D_R - lon1 * _D_R) / 2)
    if v == 0.0:
        return EARTH_RADIUS * abs(lat2 * _D_R - lat1 * _D_R)
    lat1r = lat1 * _D_R
    lat2r = lat2 * _D_R
    u = _sin((lat2r - lat1r) / 2)
    a = u * u + _cos(lat1r) * _cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS * _asin(_sqrt(a))


def _sin(x: float) -> float:
    """libm's sin: NaN for an infinite argument, where Python's math.sin raises."""
    return math.sin(x) if -_INF < x < _INF else math.nan


def _cos(x: float) -> float:
    return math.cos(x) if -_INF < x < _INF else math.nan


def _asin(x: float) -> float:
    return math.asin(x) if -1.0 <= x <= 1.0 else math.nan


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else math.nan


_INF = math.inf
_math_sin, _math_cos, _math_asin, _math_sqrt = math.sin, math.cos, math.asin, math.sqrt


# -- search shapes ----------------------------------------------------------------------------
class Shape:
    """A search area (GeoShape): a circle (`radius`) or a box (`width`, `height`) around
    (longitude, latitude), in the unit that `conversion` turns into meters."""

    __slots__ = ("longitude", "latitude", "radius", "width", "height", "conversion", "_lon_rad", "_lat_rad",
                 "_lat_cos", "_band", "_inner_span")

    def __init__(self, longitude: float, latitude: float, conversion: float,
                 radius: float | None = None, width: float = 0.0, height: float = 0.0):
        self.longitude = longitude
        self.latitude = latitude
        self.conversion = conversion
        self.radius = radius
        self.width = width
        self.height = height
        self._lon_rad = longitude * _D_R  # the centre's terms of `distance`, computed once
        self._lat_rad = latitude * _D_R
        self._lat_cos = _cos(self._lat_rad)
        self._band: tuple | None | bool = False  # `band()` once computed
        self._inner_span: float | None = None  # `_inner_lon()` once computed

    def from_center(self, longitude: float, latitude: float) -> float:
        """`distance(centre, point)` with the centre's terms precomputed: the same operations
        on the same doubles, so the same result."""
        v = _sin((longitude * _D_R - self._lon_rad) / 2)
        lat1r = self._lat_rad
        if v == 0.0:
            return EARTH_RADIUS * abs(latitude * _D_R - lat1r)
        lat2r = latitude * _D_R
        u = _sin((lat2r - lat1r) / 2)
        return 2.0 * EARTH_RADIUS * _asin(_sqrt(u * u + self._lat_cos * _cos(lat2r) * v * v))

    def collect(self, pairs: list, band: tuple[float, float, float, float], points: list, limit: int,
                distances: bool) -> bool:
        """geoAppendIfWithinShape over (score, member) `pairs` in order: (distance, score,
        member) appended to `points` for each one inside, positions
        outside `band` passed over first; stops once `points` holds `limit` (0: no limit) and
        says so. Without `distances` a box leaves out its last distance (0.0 stands in), which
        only a reply, a sort or STOREDIST would read.

        `contains`, unrolled for a search's hot loop with Python's math functions called
        directly: the same operations on the same doubles; after a ValueError (a domain where C
        answers NaN) `contains` decides."""
        if self.radius is None:
            return self._collect_box(pairs, band, points, limit, distances)
        lat_lo, lat_hi, long_lo, long_hi = band
        decoded, decode = DECODED.get, decode_score
        lon0, lat0, cos0 = self._lon_rad, self._lat_rad, self._lat_cos
        radius = self.radius * self.conversion
        sin, cos, asin, sqrt, d_r = _math_sin, _math_cos, _math_asin, _math_sqrt, _D_R
        append = points.append
        for score, member in pairs:
            position = decoded(score)
            if position is None:
                position = decode(score)
            longitude, latitude = position
            if latitude < lat_lo or latitude > lat_hi or longitude < long_lo or longitude > long_hi:
                continue
            try:
                v = sin((longitude * d_r - lon0) / 2)
                if v == 0.0:
                    d = EARTH_RADIUS * abs(latitude * d_r - lat0)
                else:
                    lat2r = latitude * d_r
                    u = sin((lat2r - lat0) / 2)
                    d = 2.0 * EARTH_RADIUS * asin(sqrt(u * u + cos0 * cos(lat2r) * v * v))
            except ValueError:  # a domain where C answers NaN
                d = self.from_center(longitude, latitude)
            if d > radius:
                continue
            append((d, score, member))
            if len(points) == limit:
                return True
        return False

    def _collect_box(self, pairs: list, band: tuple[float, float, float, float], points: list, limit: int,
                     distances: bool) -> bool:
        """`collect` for a box (geohashGetDistanceIfInRectangle). A position whose longitude is
        within `_inner_lon` degrees of the centre's passes the along-parallel test without
        computing it (see `_inner_lon`)."""
        lat_lo, lat_hi, long_lo, long_hi = band
        decoded, decode = DECODED.get, decode_score
        lon0, lat0, lon0_deg = self._lon_rad, self._lat_rad, self.longitude
        half_height = self.height * self.conversion / 2
        half_width = self.width * self.conversion / 2
        inner = self._inner_lon()
        sin, cos, asin, sqrt, d_r = _math_sin, _math_cos, _math_asin, _math_sqrt, _D_R
        append = points.append
        for score, member in pairs:
            position = decoded(score)
            if position is None:
                position = decode(score)
            longitude, latitude = position
            if latitude < lat_lo or latitude > lat_hi or longitude < long_lo or longitude > long_hi:
                continue
            if EARTH_RADIUS * abs(lat0 - latitude * d_r) > half_height:
                continue
            try:
                if not -inner <= longitude - lon0_deg <= inner:
                    v = sin((lon0 - longitude * d_r) / 2)
                    if v != 0.0:
                        lat_cos = cos(latitude * d_r)
                        if 2.0 * EARTH_RADIUS * asin(sqrt(0.0 + lat_cos * lat_cos * v * v)) > half_width:
                            continue
                    elif 0.0 > half_width:
                        continue
                d = self._fast_from_center(longitude, latitude) if distances else 0.0
            except ValueError:
                d = self.contains(longitude, latitude)
                if d is None:
                    continue
            append((d, score, member))
            if len(points) == limit:
                return True
        return False

    def _inner_lon(self) -> float:
        """Degrees of longitude from the centre within which the box's along-parallel test
        surely passes for any latitude of its band (-1 when not worth bounding): the test is
        2R asin(|cos(lat) sin(dlon/2)|) <= half_width, with |cos(lat) sin(dlon/2)| <= c |dlon|/2
        (c the largest cos(lat) over the band) and asin(y) <= y + y**3/3 for y <= 0.1; a
        relative margin of 1e-9 and 1e-9 degrees cover the doubles' rounding many times over.
        Computed once per shape."""
        if self._inner_span is None:
            self._inner_span = self._compute_inner_lon(self.width * self.conversion / 2)
        return self._inner_span

    def _compute_inner_lon(self, half_width: float) -> float:
        x = half_width / (2.0 * EARTH_RADIUS)
        band = self.band()
        if not 0.0 < x < 0.05 or band is None:
            return -1.0
        lat_lo, lat_hi = band[0], band[1]
        c = 1.0 if lat_lo <= 0.0 <= lat_hi else max(math.cos(lat_lo * _D_R), math.cos(lat_hi * _D_R)) * (1 + 1e-9)
        x = x * (1 - 1e-9) / (1 + x * x / 3)
        return 2 * x / min(c, 1.0) / _D_R * (1 - 1e-9) - 1e-9

    def inner(self) -> tuple[float, float, float, float] | None:
        """For a box: (lowest latitude, highest latitude, lowest longitude, highest longitude)
        of a region whose every position passes `contains` (the latitude test with margins as
        `_inner_lon`'s); None for a circle, or when there is no such region worth having."""
        if self.radius is not None:
            return None
        conversion = self.conversion
        lon_span = self._inner_lon()
        lat_span = self.height * conversion / 2 / EARTH_RADIUS / _D_R * (1 - 1e-9) - 1e-9
        if not (lon_span > 0.0 and 0.0 < lat_span < 45.0):
            return None
        return (self.latitude - lat_span, self.latitude + lat_span,
                self.longitude - lon_span, self.longitude + lon_span)

    def _fast_from_center(self, longitude: float, latitude: float) -> float:
        v = _math_sin((longitude * _D_R - self._lon_rad) / 2)
        if v == 0.0:
            return EARTH_RADIUS * abs(latitude * _D_R - self._lat_rad)
        lat2r = latitude * _D_R
        u = _math_sin((lat2r - self._lat_rad) / 2)
        return 2.0 * EARTH_RADIUS * _math_asin(_math_sqrt(u * u + self._lat_cos * _math_cos(lat2r) * v * v))

    def contains(self, longitude: float, latitude: float) -> float | None:
        """geoWithinShape: the distance in meters to a point inside, None for one outside
        (`collect` unrolls it; it decides where Python's math raises and C answers NaN)."""
        if self.radius is not None:
            d = self.from_center(longitude, latitude)
            return None if d > self.radius * self.conversion else d
        if lat_distance(latitude, self.latitude) > self.height * self.conversion / 2:
            return None
        if distance(longitude, latitude, self.longitude, latitude) > self.width * self.conversion / 2:
            return None
        return self.from_center(longitude, latitude)

    def bounds(self) -> tuple[float, float, float, float]:
        """geohashBoundingBox: (min long, min lat, max long, max lat)."""
        circle = self.radius is not None
        height = self.conversion * (self.radius if circle else self.height / 2)
        width = self.conversion * (self.radius if circle else self.width / 2)
        latitude = self.latitude
        lat_delta = rad_deg(height / EARTH_RADIUS)
        long_delta_top = rad_deg(_divide(width / EARTH_RADIUS, _cos(deg_rad(latitude + lat_delta))))
        long_delta_bottom = rad_deg(_divide(width / EARTH_RADIUS, _cos(deg_rad(latitude - lat_delta))))
        long_delta = long_delta_bottom if latitude < 0 else long_delta_top
        return (self.longitude - long_delta, latitude - lat_delta,
                self.longitude + long_delta, latitude + lat_delta)

    def radius_meters(self) -> float:
        if self.radius is not None:
            meters = self.radius
        else:
            meters = _sqrt((self.width / 2) * (self.width / 2) + (self.height / 2) * (self.height / 2))
        return meters * self.conversion


    def band(self) -> tuple[float, float, float, float] | None:
        """`_compute_band`, computed once per shape."""
        if self._band is False:
            self._band = self._compute_band()
        return self._band

    def _compute_band(self) -> tuple[float, float, float, float] | None:
        """(lowest latitude, highest latitude, lowest longitude, highest longitude), in
        degrees, outside which no decoded position passes `contains`; None when no such box
        is easily bounded (huge shapes, poles, the antimeridian, non-finite sizes).

        Derived from the tests themselves, so it never excludes a point they accept: the
        haversine distance is at least the latitude distance, and at most the along-parallel
        term allows hav(dlon) <= hav(d / R) / (cos(lat0) * cos(lat)), with cos(lat) bounded
        below over the latitude band; the box's tests are the latitude distance and
        cos(lat) * |sin(dlon / 2)| <= sin(w / 4R). A margin of 1e-6 degrees (and 1e-9 of the
        span) covers the doubles' rounding many times over."""
        conversion = self.conversion
        if self.radius is not None:
            lat_angle = self.radius * conversion / EARTH_RADIUS  # radians
            half = lat_angle / 2
        else:
            lat_angle = self.height * conversion / 2 / EARTH_RADIUS
            half = self.width * conversion / 4 / EARTH_RADIUS
        if not (0.0 <= lat_angle < 0.5 and 0.0 <= half < 0.25):
            return None
        lat_span = lat_angle / _D_R * (1 + 1e-9) + 1e-6
        lat_lo, lat_hi = self.latitude - lat_span, self.latitude + lat_span
        if lat_lo <= -89.0 or lat_hi >= 89.0:
            return None
        cos_min = min(math.cos(lat_lo * _D_R), math.cos(lat_hi * _D_R))
        if self.radius is not None:
            ratio = math.sin(half) / math.sqrt(self._lat_cos * cos_min)
        else:
            ratio = math.sin(half) / cos_min
        if not ratio < 0.5:
            return None
        lon_span = 2 * math.asin(ratio) / _D_R * (1 + 1e-9) + 1e-6
        if abs(self.longitude) + lon_span >= 179.0:
            return None
        return lat_lo, lat_hi, self.longitude - lon_span, self.longitude + lon_span


def cell_ranges(bits: int, ilat: int, ilon: int, step: int, band: tuple[float, float, float, float] | None,
                crowded=None, inner: tuple[float, float, float, float] | None = None,
                depth: int = 2) -> list[tuple[int, int, bool]]:
    """The score ranges [min, max) of a cell (`cell_scores`) that may hold a position inside
    `band`, as (min, max, inside): the cell split into quarters (at most `depth` times, and
    only while `crowded(min, max)` says a part holds enough members to be worth it), keeping
    the parts that meet the band, in score order (adjacent parts of the same kind merged).
    `inside` says the part lies within `inner`, where every position passes the shape's test.
    The members they leave out fail `contains`, so a search visits the members it accepts in
    the same order."""
    if band is None:
        low, high = cell_scores(bits, step)
        return [(low, high, False)]
    long_min, long_max, lat_min, lat_max = cell_box(ilat, ilon, step)
    ranges: list[list] = []
    _collect(bits, step, min(depth, STEP_MAX - step), long_min, long_max, lat_min, lat_max, band, inner, crowded,
             ranges)
    return [(low, high, inside) for low, high, inside in ranges]


def _collect(bits: int, step: int, depth: int, long_min: float, long_max: float, lat_min: float,
             lat_max: float, band: tuple[float, float, float, float], inner, crowded, ranges: list[list]) -> None:
    lat_lo, lat_hi, long_lo, long_hi = band
    if lat_max < lat_lo or lat_min > lat_hi or long_max < long_lo or long_min > long_hi:
        return
    shift = 52 - step * 2
    low, high = bits << shift, (bits + 1) << shift
    inside = (inner is not None and inner[0] <= lat_min and lat_max <= inner[1] and inner[2] <= long_min
              and long_max <= inner[3])
    if (inside or depth == 0 or (crowded is not None and not crowded(low, high))
            or (inner is None and lat_lo <= lat_min and lat_max <= lat_hi and long_lo <= long_min
                and long_max <= long_hi)):
        if ranges and ranges[-1][1] == low and ranges[-1][2] == inside:
            ranges[-1][1] = high
        else:
            ranges.append([low, high, inside])
        return
    lat_mid = (lat_min + lat_max) / 2
    long_mid = (long_min + long_max) / 2
    bits <<= 2
    step += 1
    depth -= 1
    # the quarter's two new bits: longitude's (odd) then latitude's (even)
    _collect(bits, step, depth, long_min, long_mid, lat_min, lat_mid, band, inner, crowded, ranges)
    _collect(bits | 1, step, depth, long_min, long_mid, lat_mid, lat_max, band, inner, crowded, ranges)
    _collect(bits | 2, step, depth, long_mid, long_max, lat_min, lat_mid, band, inner, crowded, ranges)
    _collect(bits | 3, step, depth, long_mid, long_max, lat_mid, lat_max, band, inner, crowded, ranges)


def _divide(a: float, b: float) -> float:
    """IEEE division, as C does it: x/0 is an infinity (or NaN), never an exception."""
    if b == 0.0:
        if a == 0.0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def estimate_step(range_meters: float, latitude: float) -> int:
    """geohashEstimateStepsByRadius. Its loop doubles the range (exactly, in binary floating
    point) until it reaches the Mercator limit; the number of doublings is read from the two
    numbers' binary exponents instead."""
    if range_meters == 0:
        return 26
    step = 1
    if range_meters < _MERCATOR_MAX:
        mantissa, exponent = math.frexp(range_meters)
        step += _MERCATOR_EXP - exponent + (mantissa < _MERCATOR_MANTISSA)
    step -= 2
    if latitude > 66 or latitude < -66:
        step -= 1
        if latitude > 80 or latitude < -80:
            step -= 1
    return min(max(step, 1), 26)


_MERCATOR_MANTISSA, _MERCATOR_EXP = math.frexp(_MERCATOR_MAX)


# The order in which membersOfAllNeighbors visits the cells, as (dx, dy) from the centre.
_CELL_ORDER = ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
_LAT_SCALE = LAT_MAX - LAT_MIN
_LONG_SCALE = LONG_MAX - LONG_MIN


def search_area(shape: Shape) -> tuple[int, list[tuple[int, int, int] | None]]:
    """geohashCalculateAreasByShapeWGS84: (step, cells), the centre cell and its eight
    neighbours as (bits, latitude index, longitude index) at `step` in Redis's visiting order,
    None for a neighbour the search area cannot reach.

    A cell is kept as its two axis indexes instead of their interleave: geohash_move_x/_y add or
    subtract one on one axis's bits modulo 2**step (the carry or borrow runs through the other
    axis's bits, which are filled for it), and geohashDecode reads the two indexes back, so
    moving and decoding are plain integer and float arithmetic here. The centre keeps
    geohashEncode's index as computed (2**step for the range's upper edge), as Redis's
    unmasked bits do; only a moved axis is reduced modulo 2**step."""
    longitude, latitude = shape.longitude, shape.latitude
    min_lon, min_lat, max_lon, max_lat = shape.bounds()
    step = estimate_step(shape.radius_meters(), latitude)
    ilat, ilon = _indexes(longitude, latitude, step)
    if step > 1:
        mask = (1 << step) - 1
        scale = 1 << step
        if (LAT_MIN + ((((ilat + 1) & mask) + 1) * 1.0 / scale) * _LAT_SCALE < max_lat
                or LAT_MIN + ((((ilat - 1) & mask) * 1.0) / scale) * _LAT_SCALE > min_lat
                or LONG_MIN + ((((ilon + 1) & mask) + 1) * 1.0 / scale) * _LONG_SCALE < max_lon
                or LONG_MIN + ((((ilon - 1) & mask) * 1.0) / scale) * _LONG_SCALE > min_lon):
            step -= 1
            ilat, ilon = _indexes(longitude, latitude, step)
    mask = (1 << step) - 1
    spread = _SPREAD14
    lats = (ilat, (ilat + 1) & mask, (ilat - 1) & mask)  # by dy: 0, 1, -1
    lons = (ilon, (ilon + 1) & mask, (ilon - 1) & mask)
    lat_bits = [spread[index & 0x1FFF] | spread[index >> 13] << 26 for index in lats]
    lon_bits = [(spread[index & 0x1FFF] | spread[index >> 13] << 26) << 1 for index in lons]
    lat_kept = lon_kept = (True, True, True)
    if step >= 2:  # the neighbours beyond a side the search area does not reach: None
        long_min, long_max, lat_min, lat_max = cell_box(ilat, ilon, step)
        lat_kept = (True, not lat_max > max_lat, not lat_min < min_lat)
        lon_kept = (True, not long_max > max_lon, not long_min < min_lon)
    cells: list[tuple[int, int, int] | None] = [
        (lat_bits[dy] | lon_bits[dx], lats[dy], lons[dx]) if lat_kept[dy] and lon_kept[dx] else None
        for dx, dy in _CELL_ORDER]
    return step, cells


def _indexes(longitude: float, latitude: float, step: int) -> tuple[int, int]:
    """geohashEncode's two axis indexes (before the interleave) of a position in range."""
    scale = 1 << step
    lat_offset = (latitude - LAT_MIN) / _LAT_SCALE * scale
    long_offset = (longitude - LONG_MIN) / _LONG_SCALE * scale
    return int(lat_offset) & 0xFFFFFFFF, int(long_offset) & 0xFFFFFFFF


def cell_box(ilat: int, ilon: int, step: int) -> tuple[float, float, float, float]:
    """geohashDecode of the cell at these indexes: (long_min, long_max, lat_min, lat_max)."""
    scale = 1 << step
    return (LONG_MIN + (ilon * 1.0 / scale) * _LONG_SCALE,
            LONG_MIN + ((ilon + 1) * 1.0 / scale) * _LONG_SCALE,
            LAT_MIN + (ilat * 1.0 / scale) * _LAT_SCALE,
            LAT_MIN + ((ilat + 1) * 1.0 / scale) * _LAT_SCALE)


def _spread_table(bits: int) -> list[int]:
    """Each number below 2**bits with its bits moved to the even positions."""
    table = [0] * (1 << bits)
    for value in range(1, 1 << bits):
        table[value] = table[value >> 1] << 2 | (value & 1)
    return table


_SPREAD14 = _spread_table(14)


def cell_scores(bits: int, step: int) -> tuple[int, int]:
    """scoresOfGeoHashBox: the scores [min, max) of the members inside a cell."""
    shift = 52 - step * 2
    return bits << shift, (bits + 1) << shift
