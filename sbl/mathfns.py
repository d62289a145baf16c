"""sin, cos, tan, atan2, exp and log computed by sbl's own code, the same in both runtimes.

Python's ``math`` (glibc libm) and JavaScript's ``Math`` (V8's fdlibm port; other browsers
have their own) disagree in the last bit for 3-7 % of inputs (glibc 2.36 against node 20,
200,000 inputs each), and the page and text runs are compared cell for cell. So these
functions use only ``+ - * /``, comparisons and exact scaling by powers of two, which IEEE-754
rounds the same everywhere; ``sbl/backends/web/expr.js`` runs the same steps in the same
order. The algorithms and constants are musl's (``src/math/__sin.c``, ``__cos.c``,
``__rem_pio2.c``, ``exp.c``, ``log.c``, ``atan.c``, ``atan2.c``, from FreeBSD's fdlibm),
simplified where a shortcut needed the bit pattern: each is within 1 ulp of the true value.
``sqrt`` is correctly rounded in both libraries and is taken from them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from sbl.values import Value, ValueFault, divide, is_number, kind, num, show

# sin and cos reduce their argument with three parts of pi/2 (musl's "medium" case), exact
# enough up to 2^20 * pi/2; larger angles would need Payne-Hanek reduction, which no display
# needs, so they are refused (docs/language.md, "Builtins").
MAX_ANGLE = 1_000_000.0

_TOINT = 1.5 / 2.220446049250313e-16
_INVPIO2 = 6.36619772367581382433e-01
_PIO2 = ((1.57079632673412561417e+00, 6.07710050650619224932e-11),
         (6.07710050630396597660e-11, 2.02226624879595063154e-21),
         (2.02226624871116645580e-21, 8.47842766036889956997e-32))
_S = (-1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04,
      2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10)
_C = (4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05,
      -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11)


def _sin_kernel(x: float, y: float) -> float:
    """sin(x + y) for |x + y| <= pi/4, y the tail of the reduced argument (musl __sin)."""
    z = x * x
    w = z * z
    r = _S[1] + z * (_S[2] + z * _S[3]) + z * w * (_S[4] + z * _S[5])
    v = z * x
    return x - ((z * (0.5 * y - v * r) - y) - v * _S[0])


def _cos_kernel(x: float, y: float) -> float:
    """cos(x + y) for |x + y| <= pi/4 (musl __cos)."""
    z = x * x
    w = z * z
    r = z * (_C[0] + z * (_C[1] + z * _C[2])) + w * w * (_C[3] + z * (_C[4] + z * _C[5]))
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + (z * r - x * y))


def _reduce(x: float) -> tuple[int, float, float]:
    """n, y0, y1 with x = n * pi/2 + y0 + y1 and |y0 + y1| <= pi/4 (all three rounds of
    musl's __rem_pio2 medium case, always: good to 151 bits)."""
    fn = x * _INVPIO2 + _TOINT - _TOINT  # x / (pi/2) rounded to the nearest whole number
    r = x - fn * _PIO2[0][0]  # exact: the head of pi/2 has 33 bits, fn at most 21
    w = 0.0
    for head, tail in _PIO2[1:]:
        t = r
        w = fn * head
        r = t - w
        w = fn * tail - ((t - r) - w)
    y0 = r - w
    return int(fn) % 4, y0, (r - y0) - w


def sin(x: float) -> float:
    """The sine of x (radians, |x| <= MAX_ANGLE)."""
    n, y0, y1 = _reduce(x)
    value = _sin_kernel(y0, y1) if n % 2 == 0 else _cos_kernel(y0, y1)
    return -value if n >= 2 else value


def cos(x: float) -> float:
    """The cosine of x (radians, |x| <= MAX_ANGLE)."""
    n, y0, y1 = _reduce(x)
    value = _cos_kernel(y0, y1) if n % 2 == 0 else _sin_kernel(y0, y1)
    return -value if n in (1, 2) else value


_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_INVLN2 = 1.44269504088896338700e+00
_P = (1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05,
      -1.65339022054652515390e-06, 4.13813679705723846039e-08)


def scale(y: float, k: int) -> float:
    """y * 2^k with one rounding (musl scalbn, for the k that exp makes)."""
    if k > 1023:
        return y * math.ldexp(1.0, 1023) * math.ldexp(1.0, k - 1023)
    if k < -1000:  # first exactly to a normal number, then one rounding to a subnormal
        return y * math.ldexp(1.0, k + 1000) * math.ldexp(1.0, -1000)
    return y * math.ldexp(1.0, k)


def exp(x: float) -> float:
    """e to the power x; may overflow to infinity or underflow to 0 (the caller checks)."""
    if x > 709.8:
        return math.inf
    if x < -745.2:
        return 0.0
    k = 0
    hi, lo = x, 0.0
    if abs(x) > 0.5 * 0.6931471805599453:
        k = int(_INVLN2 * x + (0.5 if x >= 0 else -0.5))  # truncated, as C casts
        hi = x - k * _LN2_HI
        lo = k * _LN2_LO
        x = hi - lo
    xx = x * x
    c = x - xx * (_P[0] + xx * (_P[1] + xx * (_P[2] + xx * (_P[3] + xx * _P[4]))))
    y = 1.0 + (x * c / (2.0 - c) - lo + hi)
    return scale(y, k)


_LG = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
       2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
       1.479819860511658591e-01)
_SQRT_HALF = 0.7071067811865476


def log(x: float) -> float:
    """The natural logarithm of x > 0 (musl log.c, the mantissa split off by frexp)."""
    m, k = math.frexp(x)  # exact: x = m * 2^k, 0.5 <= m < 1
    if m < _SQRT_HALF:
        m *= 2.0
        k -= 1
    f = m - 1.0  # exact (Sterbenz): f in [sqrt(1/2) - 1, sqrt(2) - 1)
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG[1] + w * (_LG[3] + w * _LG[5]))
    t2 = z * (_LG[0] + w * (_LG[2] + w * (_LG[4] + w * _LG[6])))
    dk = float(k)
    return s * (hfsq + t2 + t1) + dk * _LN2_LO - hfsq + f + dk * _LN2_HI


_ATANHI = (4.63647609000806093515e-01, 7.85398163397448278999e-01,
           9.82793723247329054082e-01, 1.57079632679489655800e+00)
_ATANLO = (2.26987774529616870924e-17, 3.06161699786838301793e-17,
           1.39033110312309984516e-17, 6.12323399573676603587e-17)
_AT = (3.33333333333329318027e-01, -1.99999999998764832476e-01, 1.42857142725034663711e-01,
       -1.11111104054623557880e-01, 9.09088713343650656196e-02, -7.69187620504482999495e-02,
       6.66107313738753120669e-02, -5.83357013379057348645e-02, 4.97687799461593236017e-02,
       -3.65315727442169155270e-02, 1.62858201153657823623e-02)


def _atan_reduce(x: float) -> tuple[int, float]:
    """The table entry and the reduced argument for atan of x >= 0.4375 (musl atan)."""
    if x < 0.6875:
        return 0, (2.0 * x - 1.0) / (2.0 + x)
    if x < 1.1875:
        return 1, (x - 1.0) / (x + 1.0)
    if x < 2.4375:
        return 2, (x - 1.5) / (1.0 + 1.5 * x)
    return 3, -1.0 / x


def atan(x: float) -> float:
    """The arc tangent of x >= 0 (x may be infinite)."""
    if x >= 2.0**66:
        return _ATANHI[3]
    i, x = (-1, x) if x < 0.4375 else _atan_reduce(x)
    z = x * x
    w = z * z
    s1 = z * (_AT[0] + w * (_AT[2] + w * (_AT[4] + w * (_AT[6] + w * (_AT[8] + w * _AT[10])))))
    s2 = w * (_AT[1] + w * (_AT[3] + w * (_AT[5] + w * (_AT[7] + w * _AT[9]))))
    if i < 0:
        return x - x * (s1 + s2)
    return _ATANHI[i] - (x * (s1 + s2) - _ATANLO[i] - x)


PI = 3.14159265358979311600e+00
_PI_LO = 1.2246467991473531772e-16


def atan2(y: float, x: float) -> float:
    """The angle of the point (x, y) from the positive x axis, in (-pi, pi]; 0 for (0, 0).
    sbl has no -0, so atan2(0, x) is pi for every x < 0."""
    if y == 0:
        return PI if x < 0 else 0.0
    if x == 0:
        return math.copysign(_ATANHI[3], y)
    z = 0.0 if x < 0 and abs(y / x) < 2.0**-64 else atan(abs(y / x))
    if x > 0:
        return z if y > 0 else -z
    return PI - (z - _PI_LO) if y > 0 else (z - _PI_LO) - PI


# ---------------------------------------------------------------- the builtins


def _number(fn: str, v: Value) -> float:
    if not is_number(v):
        raise ValueFault(f"{fn} needs a number; got {kind(v)}")
    return float(v)  # type: ignore[arg-type]


def _angle(fn: str, x: Value) -> float:
    v = _number(fn, x)
    if not abs(v) <= MAX_ANGLE:
        raise ValueFault(f"{fn} needs an angle from -{show(MAX_ANGLE)} to {show(MAX_ANGLE)} "
                         f"(radians); got {show(x)}")
    return v


def sqrt_of(x: Value) -> Value:
    """The sqrt builtin: correctly rounded in both libraries, so theirs."""
    v = _number("sqrt", x)
    if v < 0:
        raise ValueFault(f"sqrt needs a number >= 0; got {show(x)}")
    return num(math.sqrt(v))


def log_of(x: Value) -> Value:
    """The log builtin (natural logarithm)."""
    v = _number("log", x)
    if v <= 0:
        raise ValueFault(f"log needs a number > 0; got {show(x)}")
    return num(log(v))


def tan_of(x: Value) -> Value:
    """The tan builtin: sin(x) / cos(x)."""
    v = _angle("tan", x)
    return divide(sin(v), cos(v))


def hypot_of(x: Value, y: Value) -> Value:
    """The hypot builtin: sqrt(x * x + y * y), in these steps in both runtimes."""
    u, v = _number("hypot", x), _number("hypot", y)
    return num(math.sqrt(u * u + v * v))


BUILTINS: dict[str, Callable[..., Value]] = {
    "sqrt": sqrt_of,
    "exp": lambda x: num(exp(_number("exp", x))),
    "log": log_of,
    "sin": lambda x: num(sin(_angle("sin", x))),
    "cos": lambda x: num(cos(_angle("cos", x))),
    "tan": tan_of,
    "atan2": lambda y, x: num(atan2(_number("atan2", y), _number("atan2", x))),
    "hypot": hypot_of,
    "pi": lambda: PI,
}
