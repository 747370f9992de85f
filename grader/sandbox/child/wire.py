"""What crosses between the grader, its worker and the student's process: frames of bytes,
and values in a plain binary form (numbers, arrays, lists, text, records; never code).

Part of the program that runs student code, and imported by the grader as
`grader.sandbox.child.wire`, so that the format has one definition (the meaning of each frame
is `protocol`'s). Standard library only: numpy is handed in by the caller. Everything here is
bound when this module loads, before any student code.

A frame is a 4-byte big-endian length, then that many bytes: a one-byte kind, then its body.

A value is a one-byte tag, then:
  N            None                     T / F        True / False
  i  int64     an int (a bigger one travels as a float, or as too large)
  d  float64   a float                  s  len utf8  text (at most MAX_TEXT characters)
  a  dtype ndim shape... float64...     an array of numbers, as float64 (dtype: the type it was
                                        computed in: d float64 or integer, f float32, h float16)
  l  count values...                    a list (a tuple travels as a list)
  m  count (text value)...              a record: text keys, values
  b  len bytes                          raw bytes (a value encoded already, passed along)
  u  len utf8  something else: the name of its type
Lengths and counts are 4-byte big-endian; numbers are little-endian, as numpy keeps them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from .protocol import LENGTH as _LENGTH

_INT = struct.Struct("<q")
_FLOAT = struct.Struct("<d")
MAX_FRAME = 48 * 1024 * 1024  # of the grader's and the worker's own frames (a job, its results)
MAX_TEXT = 1000
MAX_DEPTH = 32
# The bytes one answer may take as encoded here, its whole structure counted: every tag, length,
# item, text, byte and number, empty lists and records too. An array of 100,000 numbers fits
# (800 KB); the model answer's largest answer takes 1.6 KB. Charged while the student's process
# encodes (TooBig), and checked again before the grader decodes (ProtocolError): decoded, an
# answer takes at most about 14 times its bytes (an empty list: 5 bytes here, 64 in Python).
MAX_ANSWER = 1024 * 1024
# A frame from the student's process: a result holds an answer and its trace, each within
# MAX_ANSWER, and a few bounded texts.
MAX_RUNNER_FRAME = 4 * MAX_ANSWER
# All the answers of one submission (results and plain answers, traces included), as the worker
# passes them on: an answer beyond it is refused. Bounds what the grader holds for one
# submission whatever the number of questions; the model answer's 72 take 9 KB in all.
MAX_ANSWERS = 8 * MAX_ANSWER
# The budget of values the grader and the worker make themselves (settings, jobs, records).
UNLIMITED = 1 << 62

# How a value is encoded: `encode(value, budget)` (see make_encoder).
Encode = Callable[[Any, list[int]], bytes]
Frame = tuple[bytes, bytes]  # (kind, body)


class ProtocolError(Exception):
    """Bytes that are not frames or values of this format."""


class TooBig(Exception):
    """A value beyond the budget of bytes it may take (see MAX_ANSWER); says what it is."""


class Encoded(bytes):
    """A value encoded already: written as it is where it stands, not as raw bytes."""


_KINDS = [bytes((number,)) for number in range(256)]  # a frame's kind, made once each


def frame(kind: bytes, body: bytes = b"") -> bytes:
    """A frame of this kind (see protocol) with this body."""
    return _LENGTH.pack(len(body) + 1) + kind + body


class FrameReader:
    """Frames out of a stream of bytes, read as they come; ProtocolError for a frame longer
    than `limit`, before any of it is kept."""

    def __init__(self, limit: int = MAX_FRAME) -> None:
        self.limit, self.buffer = limit, bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        buffer = self.buffer
        buffer += data
        frames: list[Frame] = []
        at, end = 0, len(buffer)
        with memoryview(buffer) as view:  # read in place; what was read is dropped once, after
            while end - at >= 4:
                size = _LENGTH.unpack_from(buffer, at)[0]
                if size == 0 or size > self.limit:
                    raise ProtocolError(f"a frame of {size} bytes")
                if end - at < 4 + size:
                    break
                frames.append((_KINDS[buffer[at + 4]], bytes(view[at + 5:at + 4 + size])))
                at += 4 + size
        del buffer[:at]
        if len(buffer) > 4 + self.limit:
            raise ProtocolError("a frame too long")
        return frames


def split_frames(data: bytes) -> list[Frame]:
    """Every frame of a buffer that holds whole frames only."""
    reader = FrameReader(limit=max(len(data), 1))
    frames = reader.feed(data)
    if reader.buffer:
        raise ProtocolError("a frame cut short")
    return frames


def make_encoder(np: ModuleType, max_text: int | None = None) -> Encode:
    """The encoder of values, with everything it uses bound now: patching builtins or numpy
    later changes nothing about how answers are written. Texts are cut at `max_text`
    characters (a student's answers: MAX_TEXT), or kept whole (the grader's own jobs).
    `encode(value, budget)`: `budget` is a one-item list of the bytes still allowed, spent as
    the value is written, every part of it (TooBig, naming the value, past it)."""
    pack_length, pack_float = _LENGTH.pack, _FLOAT.pack
    ndarray, view, asarray = np.ndarray, np.ndarray.view, np.asarray
    _isinstance, _len, _str, _type, _float = isinstance, len, str, type, float
    _list, _tuple, _dict, _bytes = list, tuple, dict, bytes
    join = b"".join
    text = _text_encoder(max_text)
    array_bytes = _array_encoder(np, text)
    scalar = _scalar_encoder(np, text)

    def items(value: Any, budget: list[int], depth: int) -> bytes:
        _spend(budget, 5)
        if _len(value) > budget[0]:  # every item takes a byte at least
            raise TooBig()
        return b"l" + pack_length(_len(value)) + join([part(v, budget, depth + 1) for v in value])

    def part(value: Any, budget: list[int], depth: int) -> bytes:
        if depth >= MAX_DEPTH:  # the deepest the decoder reads
            return text("a value nested too deeply", budget, b"u")
        kind = _type(value)  # the common exact types first: the rest below, by isinstance
        if kind is ndarray:
            return array_bytes(value, budget)
        if kind is _float:
            _spend(budget, 9)
            return b"d" + pack_float(value)
        if kind is Encoded:
            _spend(budget, _len(value))
            return _bytes(value)
        if kind is _list or kind is _tuple:
            return items(value, budget, depth)
        number = scalar(value, budget)
        if number is not None:
            return number
        if _isinstance(value, _str):
            return text(value, budget)
        if _isinstance(value, Encoded):
            _spend(budget, _len(value))
            return _bytes(value)
        if _isinstance(value, _bytes):
            _spend(budget, 5 + _len(value))
            return b"b" + pack_length(_len(value)) + value
        if _isinstance(value, _dict):
            _spend(budget, 5)
            found = [text(key, budget, b"") + part(item, budget, depth + 1) for key, item in value.items()]
            return b"m" + pack_length(_len(found)) + join(found)
        if _isinstance(value, (_list, _tuple)):
            return items(value, budget, depth)
        if _isinstance(value, ndarray):
            return array_bytes(view(value, ndarray), budget)  # a subclass's shape may lie
        try:
            array = view(asarray(value), ndarray)
        except Exception:
            return text(_type(value).__name__, budget, b"u")
        return array_bytes(array, budget)

    def encode(value: Any, budget: list[int]) -> bytes:
        """The value's bytes, its cost taken from `budget`; TooBig, saying what it is, past it."""
        try:
            return part(value, budget, 0)
        except TooBig:
            raise TooBig(_sketch(value, ndarray)) from None

    return encode


def _spend(budget: list[int], size: int) -> None:
    budget[0] -= size
    if budget[0] < 0:
        raise TooBig()


def _text_encoder(max_text: int | None) -> Callable[..., bytes]:
    """`text(value, budget, tag=b"s")`: a text (or a key, with tag b""), cut at `max_text`."""
    pack_length, _len, _str = _LENGTH.pack, len, str

    def text(value: Any, budget: list[int], tag: bytes = b"s") -> bytes:
        data = _str.__str__(value)
        encoded = (data if max_text is None else data[:max_text]).encode("utf-8", "replace")
        _spend(budget, _len(encoded) + _len(tag) + 4)
        return tag + pack_length(_len(encoded)) + encoded

    return text


def _array_encoder(np: ModuleType, text: Callable[..., bytes]) -> Callable[[Any, list[int]], bytes]:
    """`array_bytes(array, budget)`: an ndarray of numbers, as float64 saying the type it was
    computed in; any other array as the name of its type."""
    pack_length, join, _bytes = _LENGTH.pack, b"".join, bytes
    dtype_codes = _dtype_codes(np)
    float64_le = np.dtype("<f8")  # numpy's one instance of it: arrays share it, `is` finds it

    def array_bytes(array: Any, budget: list[int]) -> bytes:
        if array.dtype.kind not in "biuf":
            return text(f"array of {array.dtype}", budget, b"u")
        _spend(budget, 3 + 4 * array.ndim + 8 * array.size)  # before any copy is made
        code = dtype_codes.get(array.dtype.num, b"d")
        try:  # float64 as it is kept here (little-endian) is its bytes already: no copy to make
            data = array.tobytes() if array.dtype is float64_le else array.astype("<f8").tobytes()
        except Exception:
            return text(f"array of {array.dtype}", budget, b"u")
        shape = join([pack_length(n) for n in array.shape])
        return b"a" + code + _bytes((array.ndim,)) + shape + data

    return array_bytes


def _dtype_codes(np: ModuleType) -> dict[int, bytes]:
    """By dtype number: float32 and float16 say what they are; everything else is float64."""
    return {np.dtype(np.float32).num: b"f", np.dtype(np.float16).num: b"h"}


def _scalar_encoder(np: ModuleType, text: Callable[..., bytes]) -> Callable[[Any, list[int]], bytes | None]:
    """`scalar(value, budget)`: None, a bool, an int or a float (numpy's too) encoded, or None
    for a value that is none of these."""
    pack_int, pack_float = _INT.pack, _FLOAT.pack
    integer, floating, bool_ = np.integer, np.floating, np.bool_
    _isinstance, _int, _float, _bool = isinstance, int, float, bool
    int64_min, int64_max = -(2 ** 63), 2 ** 63 - 1
    dtype_codes = _dtype_codes(np)

    def scalar(value: Any, budget: list[int]) -> bytes | None:
        if value is None:
            _spend(budget, 1)
            return b"N"
        if _isinstance(value, (_bool, bool_)):
            _spend(budget, 1)
            return b"T" if value else b"F"
        if _isinstance(value, (_int, integer)):
            number = _int(value)
            if int64_min <= number <= int64_max:
                _spend(budget, 9)
                return b"i" + pack_int(number)
            try:  # beyond int64: as a float, as numpy would read it
                as_float = b"d" + pack_float(_float(number))
            except OverflowError:
                return text("an integer too large for a float", budget, b"u")
            _spend(budget, 9)
            return as_float
        if _isinstance(value, floating) and value.dtype.num in dtype_codes:  # float32 says so
            _spend(budget, 11)
            return b"a" + dtype_codes[value.dtype.num] + b"\0" + pack_float(_float(value))
        if _isinstance(value, (_float, floating)):
            _spend(budget, 9)
            return b"d" + pack_float(_float(value))
        return None

    return scalar


def _sketch(value: Any, ndarray: type) -> str:
    """What a value too big to send is, in a few words: read through its type's base, so a
    subclass's own `len` or `shape` can't make the words long."""
    if isinstance(value, ndarray):
        return f"an array of shape {tuple(ndarray.shape.__get__(value))}"  # type: ignore[attr-defined]
    sized: tuple[tuple[type[Any], str], ...] = (
        (list, "a sequence of {:,} items"), (tuple, "a sequence of {:,} items"), (dict, "a dict of {:,} items"),
        (str, "a text of {:,} characters"), (bytes, "a bytes value of {:,} bytes"))
    for base, words in sized:
        if isinstance(value, base):
            return words.format(base.__len__(value))
    return f"a {type(value).__name__[:100]}"


def decode(data: bytes, np: ModuleType, max_bytes: int | None = None, precision: set[str] | None = None,
           max_text: int | None = None, unsupported: Callable[[str], Any] | None = None) -> Any:
    """The value in `data` (bytes holding exactly one value), trusting nothing about it: arrays
    come back as float64 ndarrays, records as dicts; data longer than `max_bytes` (a student's
    answer: MAX_ANSWER) is refused before any of it is read, as is a text longer than
    `max_text` characters. The type names an array was computed in other than float64 go into
    `precision`. A value of another type (tag u) is `unsupported(its type's name)`, or refused
    where nothing says what it becomes (the grader's own values have none)."""
    if max_bytes is not None and len(data) > max_bytes:
        raise ProtocolError(f"{len(data)} bytes, more than the {max_bytes} allowed")
    reader = _Reader(bytes(data), np, precision, max_text, unsupported)
    result, end = reader.value(0, 0)
    if end != len(reader.data):
        raise ProtocolError("bytes after the value")
    return result


class _Reader:
    """The parts of one encoded value, each read at an offset: (what it is, the offset after)."""

    def __init__(self, data: bytes, np: ModuleType, precision: set[str] | None, max_text: int | None,
                 unsupported: Callable[[str], Any] | None) -> None:
        self.data, self.end, self.frombuffer = data, len(data), np.frombuffer
        self.precision, self.unsupported = precision, unsupported
        self.text_limit = None if max_text is None else 4 * max_text

    def length(self, at: int) -> tuple[int, int]:
        if at + 4 > self.end:
            raise ProtocolError("a value cut short")
        return _LENGTH.unpack_from(self.data, at)[0], at + 4

    def text(self, at: int) -> tuple[str, int]:
        size, at = self.length(at)
        if at + size > self.end or (self.text_limit is not None and size > self.text_limit):
            raise ProtocolError("a text cut short or too long")
        return self.data[at:at + size].decode("utf-8", "replace"), at + size

    def number(self, at: int, layout: struct.Struct) -> tuple[Any, int]:
        if at + 8 > self.end:
            raise ProtocolError("a number cut short")
        return layout.unpack_from(self.data, at)[0], at + 8

    def raw(self, at: int) -> tuple[bytes, int]:
        size, at = self.length(at)
        if at + size > self.end:
            raise ProtocolError("bytes cut short")
        return self.data[at:at + size], at + size

    def items(self, at: int, depth: int) -> tuple[list[Any], int]:
        count, at = self.length(at)
        if count > self.end - at:  # every item takes a byte at least
            raise ProtocolError("a list longer than its bytes")
        found = []
        for _ in range(count):
            item, at = self.value(at, depth + 1)
            found.append(item)
        return found, at

    def record(self, at: int, depth: int) -> tuple[dict[str, Any], int]:
        count, at = self.length(at)
        if count > self.end - at:  # every item takes a byte at least
            raise ProtocolError("a list longer than its bytes")
        found = []
        for _ in range(count):
            key, at = self.text(at)
            item, at = self.value(at, depth + 1)
            found.append((key, item))
        return dict(found), at

    def array(self, at: int) -> tuple[Any, int]:
        if at + 2 > self.end:
            raise ProtocolError("an array cut short")
        code, ndim = self.data[at], self.data[at + 1]
        at += 2
        if code not in _ARRAY_CODES or ndim > 32:
            raise ProtocolError("a malformed array")
        shape = []
        size = 1
        for _ in range(ndim):
            n, at = self.length(at)
            shape.append(n)
            size *= n
        if at + 8 * size > self.end:
            raise ProtocolError("an array bigger than its bytes")
        result = self.frombuffer(self.data, dtype="<f8", count=size, offset=at).reshape(shape).astype(float)
        if code != _ARRAY_CODES[0] and self.precision is not None:
            self.precision.add("float32" if code == _ARRAY_CODES[1] else "float16")
        return result, at + 8 * size

    def value(self, at: int, depth: int) -> tuple[Any, int]:
        if depth > MAX_DEPTH:
            raise ProtocolError("nested too deeply")
        if at >= self.end:
            raise ProtocolError("a value cut short")
        tag = self.data[at]
        at += 1
        if tag == _A:
            return self.array(at)
        if tag == _D:
            return self.number(at, _FLOAT)
        if tag == _L:
            return self.items(at, depth)
        if tag == _N:
            return None, at
        if tag == _I:
            return self.number(at, _INT)
        if tag == _S:
            return self.text(at)
        if tag in (_T, _F):
            return tag == _T, at
        if tag == _M:
            return self.record(at, depth)
        if tag == _U and self.unsupported is not None:
            name, at = self.text(at)
            return self.unsupported(name[:100]), at
        if tag == _B:
            return self.raw(at)
        raise ProtocolError(f"an unknown tag {bytes((tag,))!r}")


def reference(key: int) -> bytes:
    """A call the runner holds already (see `Prepared.calls`), named in a stage by its key."""
    return b"i" + _INT.pack(key)


_A, _D, _L, _N, _I, _S, _T, _F, _M, _U, _B = b"adlNisTFmub"
_ARRAY_CODES = b"dfh"  # float64 (or any integer), float32, float16


NONE = Encoded(b"N")  # None, encoded


def encoded_list(items: Iterable[bytes]) -> Encoded:
    """A list of values encoded already, as the encoding of that list."""
    parts = list(items)
    return Encoded(b"l" + _LENGTH.pack(len(parts)) + b"".join(parts))
