"""LOLWUT as redis-server 7.0 answers it: without VERSION (or with a VERSION that is neither
5 nor 6) the version line only; VERSION 5 draws Georg Nees's Schotter in Braille characters,
VERSION 6 a skyline in four terminal grays. The drawing follows Redis's lolwut5.c/lolwut6.c
step by step, including its single-precision float arithmetic (`_f32`), so that everything
not drawn from C's rand() is identical: canvas sizes, line breaks, the unrotated first two
rows of Schotter, argument errors, the limits and the trailing version text. The random
parts (Schotter's rotations from the third row on, the skyline's buildings and windows) come
from Python's random module; redis-server seeds rand() from the time and its pid, so no
client can predict them there either."""

from __future__ import annotations

import math
import random
import struct

from yizhan.redis.args import option_word, parse_int
from yizhan.redis.instance import REDIS_VERSION
from yizhan.redis.table import command
from yizhan.resp import Verbatim

_RAND_MAX = 2147483647
_FLOAT = struct.Struct("f")


def _rand() -> int:
    """C's rand(): an int in [0, RAND_MAX]."""
    return random.getrandbits(31)


def _f32(value: float) -> float:
    """`value` stored in a C float."""
    return _FLOAT.unpack(_FLOAT.pack(value))[0]


def _c_round(value: float) -> int:
    """C's round(): halves away from zero."""
    return int(math.floor(value + 0.5)) if value >= 0 else -int(math.floor(-value + 0.5))


class Canvas:
    """lwCanvas: width x height pixels of one colour each; drawing outside is ignored."""

    def __init__(self, width: int, height: int, background: int) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray([background]) * (width * height)

    def draw(self, x: int, y: int, color: int) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.pixels[x + y * self.width] = color

    def get(self, x: int, y: int) -> int:
        if 0 <= x < self.width and 0 <= y < self.height:
            return self.pixels[x + y * self.width]
        return 0

    def line(self, x1: int, y1: int, x2: int, y2: int, color: int) -> None:
        """Bresenham, as lwDrawLine."""
        dx, dy = abs(x2 - x1), abs(y2 - y1)
        sx = 1 if x1 < x2 else -1
        sy = 1 if y1 < y2 else -1
        err = dx - dy
        while True:
            self.draw(x1, y1, color)
            if x1 == x2 and y1 == y2:
                return
            e2 = err * 2
            if e2 > -dy:
                err -= dy
                x1 += sx
            if e2 < dx:
                err += dx
                y1 += sy

    def square(self, x: int, y: int, size: float, angle: float) -> None:
        """lwDrawSquare: the corners on a circle, from pi/4 + angle in steps of pi/2."""
        size = _f32(_c_round(_f32(size / 1.4142135623)))
        k = _f32(math.pi / 4 + angle)
        points = []
        for _ in range(4):
            points.append((_c_round(math.sin(k) * size + x), _c_round(math.cos(k) * size + y)))
            k = _f32(k + math.pi / 2)
        for j in range(4):
            (x1, y1), (x2, y2) = points[j], points[(j + 1) % 4]
            self.line(x1, y1, x2, y2, 1)


def schotter(cols: int, per_row: int, per_col: int) -> Canvas:
    """lwDrawSchotter: squares that turn and shift more and more from the third row down."""
    width = cols * 2
    padding = 2 if width > 4 else 0
    side = _f32(_f32(width - padding * 2) / per_row)
    canvas = Canvas(width, int(_f32(_f32(side * per_col) + padding * 2)), 0)
    half = _f32(side / 2)
    for y in range(per_col):
        for x in range(per_row):
            sx = int(_f32(_f32(_f32(x * side) + half) + padding))
            sy = int(_f32(_f32(_f32(y * side) + half) + padding))
            angle = 0.0
            if y > 1:
                r1, r2, r3 = (_f32(_f32(_f32(_f32(_rand()) / _f32(_RAND_MAX)) / per_col) * y) for _ in range(3))
                r1 = -r1 if _rand() % 2 else r1
                r2 = -r2 if _rand() % 2 else r2
                r3 = -r3 if _rand() % 2 else r3
                angle = r1
                sx = int(_f32(sx + _f32(_f32(r2 * side) / 3)))
                sy = int(_f32(sy + _f32(_f32(r3 * side) / 3)))
            canvas.square(sx, sy, side, angle)
    return canvas


def render_braille(canvas: Canvas) -> str:
    """lolwut5.c's renderCanvas: each 2x4 block of pixels one Braille character."""
    rows = []
    get = canvas.get
    for y in range(0, canvas.height, 4):
        chars = []
        for x in range(0, canvas.width, 2):
            bits = (get(x, y) and 1) | (get(x, y + 1) and 2) | (get(x, y + 2) and 4) \
                | (get(x + 1, y) and 8) | (get(x + 1, y + 1) and 16) | (get(x + 1, y + 2) and 32) \
                | (get(x, y + 3) and 64) | (get(x + 1, y + 3) and 128)
            chars.append(chr(0x2800 + bits))
        rows.append("".join(chars) + ("\n" if y != canvas.height - 1 else ""))
    return "".join(rows)


def _skyscraper(canvas: Canvas, xoff: int, width: int, height: int, windows: bool, color: int) -> None:
    """generateSkyscraper: a building on the bottom row, its roof two pixels narrower each side,
    windows two pixels wide in one of the two grays."""
    starty = canvas.height - 1
    endy = starty - height + 1
    for y in range(starty, endy - 1, -1):
        for x in range(xoff, xoff + width):
            if y == endy and (x <= xoff + 1 or x >= xoff + width - 2):
                continue
            pixel = color
            if windows and xoff + 1 < x < xoff + width - 2 and endy + 1 < y < starty - 1:
                relx, rely = x - (xoff + 1), y - (endy + 1)
                if (relx // 2) % 2 and rely % 2:
                    pixel = 1 + _rand() % 2
                    while pixel == color:
                        pixel = 1 + _rand() % 2
                    if relx % 2:
                        pixel = canvas.get(x - 1, y)
            canvas.draw(x, y, pixel)


def skyline(cols: int, rows: int) -> Canvas:
    """generateSkyline: two layers of gray buildings, then black ones with windows."""
    canvas = Canvas(cols, rows, 3)
    for color in (2, 1):
        offset = -10
        while offset < cols:
            offset += _rand() % 8
            width = 10 + _rand() % 9
            height = rows // 2 + (_rand() % rows) // (2 if color == 2 else 3)
            _skyscraper(canvas, offset, width, height, False, color)
            offset += width // 2 if color == 2 else width + 1
    offset = -10
    while offset < cols:
        offset += _rand() % 8
        width = 5 + _rand() % 14
        if width % 4:
            width += width % 3
        height = rows // 3 + (_rand() % rows) // 2
        _skyscraper(canvas, offset, width, height, True, 0)
        offset += width + 5
    return canvas


_GRAYS = ("0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m")


def render_grays(canvas: Canvas) -> str:
    """lolwut6.c's renderCanvas: one space per pixel with its colour as terminal escapes."""
    cells = ["\033[%s \033[0m" % gray for gray in _GRAYS]
    lines = []
    for y in range(canvas.height):
        row = canvas.pixels[y * canvas.width:(y + 1) * canvas.width]
        lines.append("".join(cells[p] for p in row))
    return "\n".join(lines)


def _clamp(value: int, high: int) -> int:
    return max(1, min(value, high))


def _lolwut5(params: list) -> str:
    cols, per_row, per_col = 66, 8, 12
    if len(params) > 0:
        cols = parse_int(params[0])
    if len(params) > 1:
        per_row = parse_int(params[1])
    if len(params) > 2:
        per_col = parse_int(params[2])
    canvas = schotter(_clamp(cols, 1000), _clamp(per_row, 200), _clamp(per_col, 200))
    return render_braille(canvas) + "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. " \
        + REDIS_VERSION + "\n"


def _lolwut6(params: list) -> str:
    cols, rows = 80, 20
    if len(params) > 0:
        cols = parse_int(params[0])
    if len(params) > 1:
        rows = parse_int(params[1])
    canvas = skyline(_clamp(cols, 1000), _clamp(rows, 1000))
    return render_grays(canvas) + "\nDedicated to the 8 bit game developers of past and present.\n" \
        "Original 8 bit image from Plaguemon by hikikomori. Redis ver. " + REDIS_VERSION + "\n"


def _art_version(version: str) -> int:
    """lolwutCommand's choice from a version string: 5 (4.9 too), 6 (5.9 too) or none."""
    if (version[:2] == "5." and version[2:3] != "9") or version[:3] == "4.9":
        return 5
    if (version[:2] == "6." and version[2:3] != "9") or version[:3] == "5.9":
        return 6
    return 0


@command("LOLWUT [VERSION version]", arity=-1, flags="readonly fast", group="server", since="5.0.0", complexity="",
         summary="Display some computer art and the Redis version")
def lolwut(c, argv):
    version, params = REDIS_VERSION, []
    if len(argv) >= 3 and option_word(argv[1]) == b"VERSION":
        # Redis prints the number as a C unsigned int: it wraps modulo 2**32.
        version = "%d.0.0" % (parse_int(argv[2]) % (1 << 32))
        params = argv[3:]
    art = _art_version(version)
    if art == 5:
        return Verbatim(_lolwut5(params))
    if art == 6:
        return Verbatim(_lolwut6(params))
    return Verbatim("Redis ver. " + REDIS_VERSION + "\n")
