"""Parsing numbers as Redis's C code does, in one place.

- `strtod`: glibc's strtod (leading spaces, hex floats, inf/nan, the longest prefix that
  parses) with its ERANGE flag: set on overflow, on underflow to zero and on an inexact
  subnormal result. Callers apply the rule of the Redis function they stand for:
  `parse_double` is string2d (scores, weights, increments: ERANGE rejected only for a result of
  0 or +-inf), ZSET range bounds ignore ERANGE (zslParseRange), SORT weights reject any
  ERANGE (sortCommand).
- `parse_long_double` / `add_long_double` / `format_long_double_human`: Redis's C `long double`
  arithmetic for INCRBYFLOAT and HINCRBYFLOAT, emulated exactly with integers (x86 80-bit
  extended precision: 64-bit significand, round-half-even), so that parsing, adding and
  "%.17Lf" formatting give the same digits as redis-server.

Nothing here costs more than linear time in the input, whatever exponent it spells.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from yizhan.redis import errors
from yizhan.resp import ErrorReply

# -- glibc strtod ----------------------------------------------------------------------------
DBL_MIN = 2.2250738585072014e-308  # the smallest normal double
_SUBNORMAL_SCALE = 1074            # a subnormal double is k * 2**-1074
_STRTOD = re.compile(
    rb"[ \t\n\v\f\r]*(?P<sign>[+-]?)(?:(?P<inf>inf(?:inity)?)|(?P<nan>nan(?:\([0-9a-z_]*\))?)"
    rb"|0x(?P<hex>(?P<hmant>[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p(?P<hexp>[+-]?[0-9]+))?)"
    rb"|(?P<dec>(?P<mant>[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?))",
    re.IGNORECASE)


def strtod(raw: bytes) -> tuple[float, int, bool]:
    """(value, bytes consumed, ERANGE) as glibc's strtod; (0.0, 0, False) if nothing parses."""
    m = _STRTOD.match(raw)
    if m is None:
        return 0.0, 0, False
    erange = False
    if m.group("inf") is not None:
        value = math.inf
    elif m.group("nan") is not None:
        value = math.nan
    elif m.group("hex") is not None:
        value, erange = _hex(m.group("hex"), m.group("hmant"), m.group("hexp"))
    else:
        text = m.group("dec")
        value = float(text)
        if value == math.inf:
            erange = True
        elif value == 0.0:
            erange = m.group("mant").strip(b"0.") != b""  # a non-zero number underflowed
        elif value < DBL_MIN:
            erange = Decimal(text.decode()) != Decimal(value)  # an inexact subnormal
    if m.group("sign") == b"-":
        value = -value
    return value, m.end(), erange


def _hex(text: bytes, mantissa_text: bytes, exponent_text: bytes | None) -> tuple[float, bool]:
    """A hex float's magnitude (correctly rounded by float.fromhex) and its ERANGE."""
    try:
        value = float.fromhex("0x" + text.decode())
    except OverflowError:
        return math.inf, True
    whole, _, fraction = mantissa_text.partition(b".")
    mantissa = int(whole + fraction or b"0", 16)
    if value == 0.0:
        return value, mantissa != 0
    if value >= DBL_MIN:
        return value, False
    # subnormal: exact iff mantissa * 2**scale is k * 2**-1074 with k the rounded result's
    scale = _clamped_exponent(exponent_text) - 4 * len(fraction) + _SUBNORMAL_SCALE
    k = int(math.ldexp(value, _SUBNORMAL_SCALE))
    if scale >= 0:
        return value, (mantissa << scale) != k
    return value, mantissa & ((1 << -scale) - 1) != 0 or (mantissa >> -scale) != k


def _clamped_exponent(text: bytes | None) -> int:
    """An exponent's value, clamped far beyond where any double over/underflows (the digits
    may be many)."""
    if not text:
        return 0
    digits = text.lstrip(b"+-").lstrip(b"0")
    value = int(digits or b"0") if len(digits) <= 8 else 10 ** 8
    return -value if text.startswith(b"-") else value


def parse_double(raw: bytes, message: str = errors.NOT_FLOAT) -> float:
    """A double as Redis's string2d accepts it: all of `raw` parsed by strtod, no leading space,
    no NaN, and no ERANGE with a result of 0 or +-inf (ZADD scores, increments, weights)."""
    if len(raw) <= 20:
        if raw.isdigit():  # plain digits (the usual score): as strtod reads them
            return float(raw)
        # plain decimals (coordinates, radii): both strtod and float() round correctly
        whole, _, frac = (raw[1:] if raw[:1] == b"-" else raw).partition(b".")
        if (whole.isdigit() or not whole) and (frac.isdigit() or not frac) and (whole or frac):
            return float(raw)
    value, end, erange = strtod(raw)
    if (not raw or raw[0] in b" \t\n\v\f\r" or end != len(raw) or math.isnan(value)
            or (erange and (math.isinf(value) or value == 0.0))):
        raise ErrorReply(message)
    return value


# -- long double (x86 80-bit extended) -------------------------------------------------------
# A finite value is (mantissa, exponent) meaning mantissa * 2**exponent with |mantissa| < 2**64;
# an infinity is the string "inf" or "-inf" (it can be parsed, but never stored by INCRBYFLOAT).
_LD_BITS = 64
_LD_MIN_EXP = -16445            # weight of the last bit of the smallest subnormal: 2**-16445
_LD_MAX_EXP = 16384 - _LD_BITS  # largest finite value is (2**64 - 1) * 2**16320
_LD_MAX_CHARS = 5 * 1024        # MAX_LONG_DOUBLE_CHARS: longer input is rejected
_DEC_RE = re.compile(rb"([+-]?)(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?")
_HEX_RE = re.compile(rb"([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?")
_INF_RE = re.compile(rb"([+-]?)(?:inf|infinity)", re.IGNORECASE)


def parse_long_double(raw: bytes):
    """Redis's string2ld: the whole of `raw` must be what strtold reads (no spaces, no NUL, no
    nan); the result is rounded to the nearest long double; over/underflow is rejected."""
    if not raw or len(raw) >= _LD_MAX_CHARS:
        raise ErrorReply(errors.NOT_FLOAT)
    match = _INF_RE.fullmatch(raw)
    if match:
        return "-inf" if match.group(1) == b"-" else "inf"
    match = _DEC_RE.fullmatch(raw)
    hexadecimal = match is None
    if hexadecimal:
        match = _HEX_RE.fullmatch(raw)
        if match is None:
            raise ErrorReply(errors.NOT_FLOAT)
    sign, whole, frac, only_frac, exp = match.groups()
    frac = frac or only_frac or b""
    digits = (whole or b"") + frac
    mantissa = int(digits, 16) if hexadecimal else _decimal_int(digits)
    if not mantissa:
        return (0, 0)
    if hexadecimal:  # mantissa * 2**scale
        scale = _clamped_exponent(exp) - 4 * len(frac)
        if _too_far(mantissa.bit_length() + scale, 16400, 16500):
            raise ErrorReply(errors.NOT_FLOAT)
        num, den = (mantissa << scale, 1) if scale >= 0 else (mantissa, 1 << -scale)
    else:  # mantissa * 10**scale
        scale = _clamped_exponent(exp) - len(frac)
        if _too_far(len(digits.lstrip(b"0")) + scale, 4940, 4960):
            raise ErrorReply(errors.NOT_FLOAT)
        num, den = (mantissa * 10 ** scale, 1) if scale >= 0 else (mantissa, 10 ** -scale)
    rounded = _round_ld(num, den)
    if rounded is None or rounded[0] == 0:
        raise ErrorReply(errors.NOT_FLOAT)  # ERANGE: overflow to HUGE_VAL or underflow to zero
    m, e = rounded
    return (-m if sign == b"-" else m, e)


def _too_far(magnitude: int, high: int, low: int) -> bool:
    """Whether a number of about 10**magnitude (or 2**magnitude) certainly over/underflows."""
    return magnitude > high or magnitude < -low


def _decimal_int(digits: bytes) -> int:
    """int(digits) for any length (Python limits str->int conversion to 4300 digits)."""
    value = 0
    for i in range(0, len(digits), 4000):
        chunk = digits[i:i + 4000]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def _round_ld(num: int, den: int):
    """num/den (positive) rounded half-even to a long double: (m, e), m == 0 on underflow,
    None on overflow."""
    exp = num.bit_length() - den.bit_length()
    if (num << max(-exp, 0)) < (den << max(exp, 0)):
        exp -= 1
    e = max(exp - (_LD_BITS - 1), _LD_MIN_EXP)
    n, d = (num, den << e) if e >= 0 else (num << -e, den)
    m, rest = divmod(n, d)
    if 2 * rest > d or (2 * rest == d and m & 1):
        m += 1
    if m == 1 << _LD_BITS:
        m, e = m >> 1, e + 1
    return None if e > _LD_MAX_EXP else (m, e)


def add_long_double(a, b):
    """a + b with one rounding, as the x87 FPU does it; NaN or infinity is an error."""
    if isinstance(a, str) or isinstance(b, str):
        raise ErrorReply(errors.INCR_FLOAT_NAN)
    (ma, ea), (mb, eb) = a, b
    e = min(ea, eb)
    total = (ma << (ea - e)) + (mb << (eb - e))
    if total == 0:
        return (0, 0)
    num, den = (abs(total) << e, 1) if e >= 0 else (abs(total), 1 << -e)
    rounded = _round_ld(num, den)
    if rounded is None:
        raise ErrorReply(errors.INCR_FLOAT_NAN)
    return (-rounded[0] if total < 0 else rounded[0], rounded[1])


def format_long_double_human(value) -> bytes:
    """printf("%.17Lf") rounded half-even from the exact value, then trailing zeros (and a
    trailing '.') removed, and "-0" written as "0" (Redis's ld2string LD_STR_HUMAN)."""
    m, e = value
    scaled = abs(m) * 10 ** 17
    if e >= 0:
        fixed = scaled << e
    else:
        fixed, rest = divmod(scaled, 1 << -e)
        half = 1 << (-e - 1)
        if rest > half or (rest == half and fixed & 1):
            fixed += 1
    whole, frac = divmod(fixed, 10 ** 17)
    text = (b"-" if m < 0 else b"") + _decimal_bytes(whole) + b".%017d" % frac
    text = text.rstrip(b"0").rstrip(b".")
    return b"0" if text == b"-0" else text


_CHUNK = 10 ** 4000


def _decimal_bytes(n: int) -> bytes:
    """str(n) for any size (Python limits int->str conversion to 4300 digits)."""
    if n < _CHUNK:
        return b"%d" % n
    high, low = divmod(n, _CHUNK)
    return _decimal_bytes(high) + b"%04000d" % low
