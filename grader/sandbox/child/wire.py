"""What crosses between the grader, its worker and the student's process: frames of bytes,
and values in a plain binary form (numbers, arrays, lists, text, records; never code).

Part of the program that runs student code (one of the parts `processes.child_boot` runs) and
imported by the grader as `grader._wire`, so that the format has one definition. Standard
library and numpy only; everything here is bound when this file runs, before any student code.

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

import struct

_LENGTH = struct.Struct(">I")
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


class ProtocolError(Exception):
    """Bytes that are not frames or values of this format."""


class TooBig(Exception):
    """A value beyond the budget of bytes it may take (see MAX_ANSWER); says what it is."""


class Unsupported:
    """A value of a type that is not a number, sequence, text or array: its type's name."""

    __slots__ = ("type_name",)

    def __init__(self, type_name):
        self.type_name = type_name

    def __eq__(self, other):
        return isinstance(other, Unsupported) and other.type_name == self.type_name

    def __hash__(self):
        return hash(self.type_name)

    def __repr__(self):
        return f"Unsupported({self.type_name!r})"


class Encoded(bytes):
    """A value encoded already: written as it is where it stands, not as raw bytes."""


_KINDS = [bytes((number,)) for number in range(256)]  # a frame's kind, made once each


def frame(kind, body=b""):
    return _LENGTH.pack(len(body) + 1) + kind + body


class FrameReader:
    """Frames out of a stream of bytes, read as they come; ProtocolError for a frame longer
    than `limit`, before any of it is kept."""

    def __init__(self, limit=MAX_FRAME):
        self.limit, self.buffer = limit, bytearray()

    def feed(self, data):
        buffer = self.buffer
        buffer += data
        frames, at, end = [], 0, len(buffer)
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


def split_frames(data):
    """Every frame of a buffer that holds whole frames only."""
    reader = FrameReader(limit=max(len(data), 1))
    frames = reader.feed(data)
    if reader.buffer:
        raise ProtocolError("a frame cut short")
    return frames


def make_encoder(np, max_text=None):
    """The encoder of values, with everything it uses bound now: patching builtins or numpy
    later changes nothing about how answers are written. Texts are cut at `max_text`
    characters (a student's answers: MAX_TEXT), or kept whole (the grader's own jobs).
    `encode(value, budget)`: `budget` is a one-item list of the bytes still allowed, spent as
    the value is written, every part of it (TooBig, naming the value, past it)."""
    pack_length, pack_int, pack_float = _LENGTH.pack, _INT.pack, _FLOAT.pack
    ndarray, view, asarray, float64 = np.ndarray, np.ndarray.view, np.asarray, np.float64
    integer, floating, bool_ = np.integer, np.floating, np.bool_
    _isinstance, _len, _int, _float, _bool, _str = isinstance, len, int, float, bool, str
    _list, _tuple, _dict, _bytes, _type = list, tuple, dict, bytes, type
    join = b"".join
    int64_min, int64_max = -(2 ** 63), 2 ** 63 - 1
    # By dtype number: float32 and float16 say what they are; everything else is float64.
    dtype_codes = {np.dtype(np.float32).num: b"f", np.dtype(np.float16).num: b"h"}
    float64_le = np.dtype("<f8")  # numpy's one instance of it: arrays share it, `is` finds it

    def spend(budget, size):
        budget[0] -= size
        if budget[0] < 0:
            raise TooBig()

    def text(value, budget, tag=b"s"):
        data = _str.__str__(value)
        data = (data if max_text is None else data[:max_text]).encode("utf-8", "replace")
        spend(budget, _len(data) + _len(tag) + 4)
        return tag + pack_length(_len(data)) + data

    def array_bytes(array, budget):
        if array.dtype.kind not in "biuf":
            return text(f"array of {array.dtype}", budget, b"u")
        spend(budget, 3 + 4 * array.ndim + 8 * array.size)  # before any copy is made
        code = dtype_codes.get(array.dtype.num, b"d")
        try:  # float64 as it is kept here (little-endian) is its bytes already: no copy to make
            data = array.tobytes() if array.dtype is float64_le else array.astype("<f8").tobytes()
        except Exception:
            return text(f"array of {array.dtype}", budget, b"u")
        shape = join([pack_length(n) for n in array.shape])
        return b"a" + code + _bytes((array.ndim,)) + shape + data

    def items(value, budget, depth):
        spend(budget, 5)
        if _len(value) > budget[0]:  # every item takes a byte at least
            raise TooBig()
        return b"l" + pack_length(_len(value)) + join([part(v, budget, depth + 1) for v in value])

    def part(value, budget, depth):
        if depth >= MAX_DEPTH:  # the deepest the decoder reads
            return text("a value nested too deeply", budget, b"u")
        kind = _type(value)  # the common exact types first: the rest below, by isinstance
        if kind is ndarray:
            return array_bytes(value, budget)
        if kind is _float:
            spend(budget, 9)
            return b"d" + pack_float(value)
        if kind is Encoded:
            spend(budget, _len(value))
            return _bytes(value)
        if kind is _list or kind is _tuple:
            return items(value, budget, depth)
        if value is None:
            spend(budget, 1)
            return b"N"
        if _isinstance(value, (_bool, bool_)):
            spend(budget, 1)
            return b"T" if value else b"F"
        if _isinstance(value, (_int, integer)):
            number = _int(value)
            if int64_min <= number <= int64_max:
                spend(budget, 9)
                return b"i" + pack_int(number)
            try:  # beyond int64: as a float, as numpy would read it
                as_float = b"d" + pack_float(_float(number))
            except OverflowError:
                return text("an integer too large for a float", budget, b"u")
            spend(budget, 9)
            return as_float
        if _isinstance(value, floating) and value.dtype.num in dtype_codes:  # float32 says so
            spend(budget, 11)
            return b"a" + dtype_codes[value.dtype.num] + b"\0" + pack_float(_float(value))
        if _isinstance(value, (_float, floating)):
            spend(budget, 9)
            return b"d" + pack_float(_float(value))
        if _isinstance(value, _str):
            return text(value, budget)
        if _isinstance(value, Encoded):
            spend(budget, _len(value))
            return _bytes(value)
        if _isinstance(value, _bytes):
            spend(budget, 5 + _len(value))
            return b"b" + pack_length(_len(value)) + value
        if _isinstance(value, _dict):
            spend(budget, 5)
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

    def sketch(value):
        """What a value too big to send is, in a few words: read through its type's base, so a
        subclass's own `len` or `shape` can't make the words long."""
        if _isinstance(value, ndarray):
            return f"an array of shape {_tuple(ndarray.shape.__get__(value))}"
        for base, words in ((_list, "a sequence of {:,} items"), (_tuple, "a sequence of {:,} items"),
                            (_dict, "a dict of {:,} items"), (_str, "a text of {:,} characters"),
                            (_bytes, "a bytes value of {:,} bytes")):
            if _isinstance(value, base):
                return words.format(base.__len__(value))
        return f"a {_type(value).__name__[:100]}"

    def encode(value, budget):
        """The value's bytes, its cost taken from `budget`; TooBig, saying what it is, past it."""
        try:
            return part(value, budget, 0)
        except TooBig:
            raise TooBig(sketch(value)) from None

    return encode


def decode(data, np, max_bytes=None, precision=None, max_text=None):
    """The value in `data` (bytes holding exactly one value), trusting nothing about it: arrays
    come back as float64 ndarrays, records as dicts, unknown types as Unsupported; data longer
    than `max_bytes` (a student's answer: MAX_ANSWER) is refused before any of it is read, as
    is a text longer than `max_text` characters. The type names an array was computed in other
    than float64 go into `precision`."""
    if max_bytes is not None and len(data) > max_bytes:
        raise ProtocolError(f"{len(data)} bytes, more than the {max_bytes} allowed")
    data = bytes(data)
    end_of_data = len(data)
    unpack_length, unpack_int, unpack_float = _LENGTH.unpack_from, _INT.unpack_from, _FLOAT.unpack_from
    frombuffer, text_limit = np.frombuffer, None if max_text is None else 4 * max_text

    def length(at):
        if at + 4 > end_of_data:
            raise ProtocolError("a value cut short")
        return unpack_length(data, at)[0], at + 4

    def read_text(at):
        size, at = length(at)
        if at + size > end_of_data or (text_limit is not None and size > text_limit):
            raise ProtocolError("a text cut short or too long")
        return data[at:at + size].decode("utf-8", "replace"), at + size

    def number(at, unpack):
        if at + 8 > end_of_data:
            raise ProtocolError("a number cut short")
        return unpack(data, at)[0], at + 8

    def items(at, depth, keyed):
        count, at = length(at)
        if count > end_of_data - at:  # every item takes a byte at least
            raise ProtocolError("a list longer than its bytes")
        found = []
        for _ in range(count):
            if keyed:
                key, at = read_text(at)
                item, at = value(at, depth + 1)
                found.append((key, item))
            else:
                item, at = value(at, depth + 1)
                found.append(item)
        return (dict(found) if keyed else found), at

    def array(at):
        if at + 2 > end_of_data:
            raise ProtocolError("an array cut short")
        code, ndim = data[at], data[at + 1]
        at += 2
        if code not in _ARRAY_CODES or ndim > 32:
            raise ProtocolError("a malformed array")
        shape = []
        size = 1
        for _ in range(ndim):
            n, at = length(at)
            shape.append(n)
            size *= n
        if at + 8 * size > end_of_data:
            raise ProtocolError("an array bigger than its bytes")
        result = frombuffer(data, dtype="<f8", count=size, offset=at).reshape(shape).astype(float)
        if code != _ARRAY_CODES[0] and precision is not None:
            precision.add("float32" if code == _ARRAY_CODES[1] else "float16")
        return result, at + 8 * size

    def value(at, depth):
        if depth > MAX_DEPTH:
            raise ProtocolError("nested too deeply")
        if at >= end_of_data:
            raise ProtocolError("a value cut short")
        tag = data[at]
        at += 1
        if tag == _A:
            return array(at)
        if tag == _D:
            return number(at, unpack_float)
        if tag == _L:
            return items(at, depth, keyed=False)
        if tag == _N:
            return None, at
        if tag == _I:
            return number(at, unpack_int)
        if tag == _S:
            return read_text(at)
        if tag == _T or tag == _F:
            return tag == _T, at
        if tag == _M:
            return items(at, depth, keyed=True)
        if tag == _U:
            name, at = read_text(at)
            return Unsupported(name[:100]), at
        if tag == _B:
            size, at = length(at)
            if at + size > end_of_data:
                raise ProtocolError("bytes cut short")
            return data[at:at + size], at + size
        raise ProtocolError(f"an unknown tag {bytes((tag,))!r}")

    result, end = value(0, 0)
    if end != end_of_data:
        raise ProtocolError("bytes after the value")
    return result


def reference(key):
    """A call the runner holds already (see `Prepared.calls`), named in a stage by its key."""
    return b"i" + _INT.pack(key)


_A, _D, _L, _N, _I, _S, _T, _F, _M, _U, _B = b"adlNisTFmub"
_ARRAY_CODES = b"dfh"  # float64 (or any integer), float32, float16
