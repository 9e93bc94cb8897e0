"""Redis's geohash arithmetic (types/geohash.py) against literal transcriptions of geohash.c and
geohash_helper.c: the step estimate's doubling loop, the nine-cell cover built with the 64-bit
neighbour moves and geohashDecode, and the unrolled search loop (`Shape.collect`) against the
readable `Shape.contains`."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.redis.types import geohash
from yizhan.redis.types.geohash import Shape

U64 = (1 << 64) - 1


def estimate_step_loop(range_meters: float, latitude: float) -> int:
    """geohashEstimateStepsByRadius as written in C."""
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < 20037726.37:
        range_meters *= 2
        step += 1
    step -= 2
    if latitude > 66 or latitude < -66:
        step -= 1
        if latitude > 80 or latitude < -80:
            step -= 1
    return min(max(step, 1), 26)


def move(bits: int, step: int, d: int, axis_mask: int, other_mask: int) -> int:
    """geohash_move_x (longitude, odd bits) / geohash_move_y (latitude, even bits)."""
    part, keep = bits & axis_mask, bits & other_mask
    zz = other_mask >> (64 - step * 2)
    if d > 0:
        part = (part + (zz + 1)) & U64
    else:
        part = ((part | zz) - (zz + 1)) & U64
    part &= axis_mask >> (64 - step * 2)
    return part | keep


def search_cells_c(shape: Shape) -> list:
    """geohashCalculateAreasByShapeWGS84 on interleaved bits: (bits, step) or None."""
    odd, even = 0xAAAAAAAAAAAAAAAA, 0x5555555555555555
    min_lon, min_lat, max_lon, max_lat = shape.bounds()
    step = estimate_step_loop(shape.radius_meters(), shape.latitude)

    def around(step):
        bits = geohash.encode(shape.longitude, shape.latitude, step)
        cells = []
        for dx, dy in ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)):
            moved = bits
            if dx:
                moved = move(moved, step, dx, odd, even)
            if dy:
                moved = move(moved, step, dy, even, odd)
            cells.append(moved)
        return bits, cells

    bits, cells = around(step)
    if step > 1:
        north, south = geohash.cell_area(cells[1], step), geohash.cell_area(cells[2], step)
        east, west = geohash.cell_area(cells[3], step), geohash.cell_area(cells[4], step)
        if north[3] < max_lat or south[2] > min_lat or east[1] < max_lon or west[0] > min_lon:
            step -= 1
            bits, cells = around(step)
    out = [(cell, step) for cell in cells]
    if step >= 2:
        area = geohash.cell_area(bits, step)
        for i, (dx, dy) in enumerate(((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))):
            if ((dy < 0 and area[2] < min_lat) or (dy > 0 and area[3] > max_lat)
                    or (dx < 0 and area[0] < min_lon) or (dx > 0 and area[1] > max_lon)):
                out[i] = None
    return out


EDGE_LONGITUDES = st.sampled_from([-180.0, 180.0, 0.0, 179.99999, -179.99999])
EDGE_LATITUDES = st.sampled_from([geohash.LAT_MAX, geohash.LAT_MIN, 0.0, 85.0, -66.5, 80.5])
LONGITUDES = st.one_of(st.floats(-180, 180), EDGE_LONGITUDES)
LATITUDES = st.one_of(st.floats(geohash.LAT_MIN, geohash.LAT_MAX), EDGE_LATITUDES)
SIZES = st.one_of(st.floats(0, 1e7), st.sampled_from([0.0, 5e-324, 1e-3, 20037726.37, 1e300, math.inf]))


@st.composite
def shapes(draw) -> Shape:
    conversion = draw(st.sampled_from([1.0, 1000.0, 0.3048, 1609.34]))
    if draw(st.booleans()):
        return Shape(draw(LONGITUDES), draw(LATITUDES), conversion, radius=draw(SIZES))
    return Shape(draw(LONGITUDES), draw(LATITUDES), conversion, width=draw(SIZES), height=draw(SIZES))


@settings(max_examples=2000, deadline=None)
@given(range_meters=st.one_of(SIZES, st.floats(0, 3e7), st.integers(-60, 60).map(lambda k: 20037726.37 * 2.0 ** k),
                              st.integers(-60, 60).map(lambda k: math.nextafter(20037726.37 * 2.0 ** k, 0))),
       latitude=LATITUDES)
def test_estimate_step_counts_the_doublings(range_meters, latitude):
    assert geohash.estimate_step(range_meters, latitude) == estimate_step_loop(range_meters, latitude)


@settings(max_examples=1500, deadline=None)
@given(shape=shapes())
def test_search_area_is_the_nine_cells_redis_computes(shape):
    step, cells = geohash.search_area(shape)
    ours = [None if cell is None else (cell[0], step) for cell in cells]
    assert ours == search_cells_c(shape)
    for cell in cells:
        if cell is not None:
            bits, ilat, ilon = cell
            assert geohash.cell_box(ilat, ilon, step) == geohash.cell_area(bits, step)


@settings(max_examples=400, deadline=None)
@given(shape=shapes(), offsets=st.lists(st.tuples(st.floats(-0.5, 0.5), st.floats(-0.5, 0.5)), max_size=60),
       distances=st.booleans())
def test_collect_keeps_what_contains_keeps(shape, offsets, distances):
    """The unrolled loop (band, inner longitudes of a box, math called directly) against the
    NaN-safe reference, on members around the centre: the same members, the same distances."""
    pairs = []
    for dlon, dlat in offsets:
        longitude = min(max(shape.longitude + dlon * abs(dlon), -180.0), 180.0)
        latitude = min(max(shape.latitude + dlat * abs(dlat), geohash.LAT_MIN), geohash.LAT_MAX)
        pairs.append((float(geohash.geo_score(longitude, latitude)), b"m%d" % len(pairs)))
    pairs.sort()
    band = shape.band() or (-math.inf, math.inf, -math.inf, math.inf)
    points: list = []
    shape.collect(pairs, band, points, 0, distances)
    expected = []
    for score, member in pairs:
        longitude, latitude = geohash.decode_score(score)
        d = shape.contains(longitude, latitude)
        if d is not None:
            expected.append((d if distances or shape.radius is not None else 0.0, member))
    got = [(d, member) for d, _, member in points]
    assert repr(got) == repr(expected)  # repr: NaN distances compare equal too


@settings(max_examples=300, deadline=None)
@given(longitude=st.floats(-170, 170), latitude=st.floats(-0.01, 0.01), width=st.floats(1, 300000),
       unit=st.sampled_from([1.0, 1000.0]), spread=st.sampled_from([1e-2, 1e-3, 1e-4, 1e-6]),
       factors=st.lists(st.floats(-1, 1), min_size=1, max_size=40))
def test_collect_at_a_box_edge_near_the_equator(longitude, latitude, width, unit, spread, factors):
    """Members a hair inside and outside a box's east and west edges where cos(latitude) is
    close to 1, which is where the longitudes passed without trigonometry come closest to it."""
    shape = Shape(longitude, latitude, unit, width=width / unit, height=width / unit)
    edge = width / 2 / geohash.EARTH_RADIUS / (math.pi / 180.0)  # degrees along the equator
    pairs = []
    for i, factor in enumerate(factors):
        side = 1 if i % 2 else -1
        pairs.append((float(geohash.geo_score(longitude + side * edge * (1 + factor * spread), latitude)), b"m%d" % i))
    pairs.sort()
    band = shape.band() or (-math.inf, math.inf, -math.inf, math.inf)
    points: list = []
    shape.collect(pairs, band, points, 0, False)
    expected = [member for score, member in pairs if shape.contains(*geohash.decode_score(score)) is not None]
    assert [member for _, _, member in points] == expected


@settings(max_examples=500, deadline=None)
@given(shape=shapes(), corners=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), max_size=20))
def test_every_position_of_a_box_inner_region_is_inside(shape, corners):
    """`Shape.inner`: members of cell parts inside it are taken without a test, so its edges,
    corners and everything between must pass `contains`."""
    inner = shape.inner()
    if inner is None:
        return
    lat_lo, lat_hi, lon_lo, lon_hi = inner
    for fy, fx in corners + [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0), (0.5, 0.0), (0.0, 0.5)]:
        latitude = lat_lo + (lat_hi - lat_lo) * fy
        longitude = lon_lo + (lon_hi - lon_lo) * fx
        if geohash.LAT_MIN <= latitude <= geohash.LAT_MAX and -180 <= longitude <= 180:
            assert shape.contains(longitude, latitude) is not None, (longitude, latitude)
