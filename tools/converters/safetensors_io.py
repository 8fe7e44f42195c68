"""Minimal safetensors reader and writer on numpy alone (no torch, no `safetensors` package): the
one that every Python tool and test of this repository uses, with the metadata every libavpgan
file carries (`avpgan_metadata`).

File layout (https://github.com/huggingface/safetensors):

    u64 little-endian N | N bytes of UTF-8 JSON header | data buffer

The header is a JSON object. Its entry "__metadata__" (optional) maps strings to
strings; every other entry is a tensor
``"name": {"dtype": "F32", "shape": [d0, ...], "data_offsets": [begin, end]}``
whose bytes are data[begin:end], little-endian, row-major (C order).

Writer contract (`write`):
  * tensors are laid out in the data buffer in the iteration order of the dict
    given, without gaps, and listed in the header in that same order, after
    "__metadata__" (present only when metadata is given);
  * the header is compact JSON (separators "," and ":") padded at the end with
    spaces so that 8 + N is a multiple of 8;
  * numpy dtypes float32, float16, uint8, int64, int32 (and float64, int8,
    int16, uint16, uint32, uint64, bool) map to F32, F16, U8, I64, I32 (F64, I8,
    I16, U16, U32, U64, BOOL); data is written little-endian whatever the
    host's byte order;
  * BF16: numpy has no bfloat16 type, so a float32 tensor whose name is in
    `bf16` is stored as BF16 (rounded to nearest, ties to even; NaN stays NaN);
  * the file is written to `path + ".tmp"` and renamed, so a reader never sees
    a half-written file.

Reader contract (`read`):
  * returns (tensors, metadata): tensors in header order as fresh, writable,
    native-byte-order numpy arrays; BF16 tensors are widened exactly to
    float32; metadata is {} when the file has none;
  * raises SafetensorsError (a ValueError) naming the tensor or field when the
    file is shorter than 8 bytes, the header length exceeds the file or
    `max_header_bytes`, the header is not a JSON object starting with "{",
    an entry is malformed (unknown dtype, shape not a list of non-negative
    integers, offsets not a pair of integers), the byte size differs from
    product(shape) x dtype size, or the tensors do not tile the data buffer
    exactly (sorted by begin, from 0 to the end of the file, no gap, no
    overlap), or metadata is not a string-to-string map.
"""
import json
import os

import numpy as np

__all__ = ["SafetensorsError", "write", "read", "header_length", "DTYPES", "FORMAT_VERSION", "avpgan_metadata"]


class SafetensorsError(ValueError):
    """A malformed safetensors file or an unsupported tensor."""


# safetensors dtype name -> numpy dtype (little-endian). BF16 is handled apart.
DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_SIZES = {name: dt.itemsize for name, dt in DTYPES.items()}
_SIZES["BF16"] = 2
_BY_KIND = {(dt.kind, dt.itemsize): name for name, dt in DTYPES.items()}

DEFAULT_MAX_HEADER_BYTES = 100 * 1024 * 1024

#: The format version every libavpgan file (model, face model, enhancer, VGG) carries.
FORMAT_VERSION = "1"


def avpgan_metadata(arch, config=None, source=None):
    """The metadata of a libavpgan file, in the order the files list it: "avpgan.format",
    "avpgan.arch", "avpgan.config" (`config` as compact JSON, when given) and "avpgan.source"
    (when given)."""
    metadata = {"avpgan.format": FORMAT_VERSION, "avpgan.arch": arch}
    if config is not None:
        metadata["avpgan.config"] = json.dumps(config, separators=(",", ":"))
    if source is not None:
        metadata["avpgan.source"] = str(source)
    return metadata


def _f32_to_bf16_bits(a):
    bits = np.ascontiguousarray(a, dtype="<f4").view("<u4").astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16  # nearest, ties to even
    nan = np.isnan(np.asarray(a, dtype=np.float32))
    rounded = np.where(nan, (bits >> 16) | 0x40, rounded)  # keep NaN a (quiet) NaN
    return rounded.astype("<u2")


def _bf16_bits_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def write(path, tensors, metadata=None, bf16=()):
    """Writes `tensors` (name -> numpy array) to a safetensors file at `path`.

    metadata: None (no "__metadata__" entry) or a dict of str -> str.
    bf16: names of float32 tensors to store as BF16.
    Raises SafetensorsError for an unsupported dtype, a non-string metadata
    key or value, the reserved name "__metadata__", or an unknown bf16 name."""
    bf16 = set(bf16)
    unknown = bf16 - set(tensors)
    if unknown:
        raise SafetensorsError(f"bf16 names not among the tensors: {sorted(unknown)}")
    header = {}
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise SafetensorsError(f"metadata must map str to str, got {k!r}: {type(v).__name__}")
        header["__metadata__"] = dict(metadata)
    blobs, offset = [], 0
    for name, array in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise SafetensorsError(f"invalid tensor name {name!r}")
        a = np.asarray(array)
        if name in bf16:
            if a.dtype != np.float32:
                raise SafetensorsError(f"tensor {name!r}: BF16 needs a float32 array, got {a.dtype}")
            dtype, data = "BF16", _f32_to_bf16_bits(a).tobytes()
        else:
            dtype = _BY_KIND.get((a.dtype.kind, a.dtype.itemsize))
            if dtype is None:
                raise SafetensorsError(f"tensor {name!r}: unsupported dtype {a.dtype}")
            data = np.ascontiguousarray(a, dtype=DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": [int(d) for d in a.shape],
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(len(text).to_bytes(8, "little"))
        fh.write(text)
        for data in blobs:
            fh.write(data)
    os.replace(tmp, path)


def header_length(blob, path="<bytes>", max_header_bytes=DEFAULT_MAX_HEADER_BYTES):
    """N, the length of the JSON header of the safetensors file whose bytes (or first bytes) are
    `blob`: the header is blob[8:8 + N], the data starts at 8 + N. Raises SafetensorsError, naming
    `path`, when blob is shorter than 8 bytes or N exceeds `max_header_bytes` or blob."""
    if len(blob) < 8:
        raise SafetensorsError(f"{path}: file is {len(blob)} bytes, shorter than the 8-byte header length")
    n = int.from_bytes(blob[:8], "little")
    if n > max_header_bytes:
        raise SafetensorsError(f"{path}: header length {n} exceeds the cap {max_header_bytes}")
    if 8 + n > len(blob):
        raise SafetensorsError(f"{path}: header length {n} exceeds the file ({len(blob)} bytes)")
    return n


def read(path, max_header_bytes=DEFAULT_MAX_HEADER_BYTES):
    """Reads a safetensors file; returns (tensors: dict[str, np.ndarray], metadata: dict[str, str]).

    See the module docstring for what is checked."""
    with open(path, "rb") as fh:
        blob = fh.read()
    n = header_length(blob, path, max_header_bytes)
    raw = blob[8:8 + n]
    if not raw.startswith(b"{"):
        raise SafetensorsError(f"{path}: header does not start with '{{'")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path}: header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise SafetensorsError(f"{path}: __metadata__ is not a map of strings to strings")
    data = memoryview(blob)[8 + n:]
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict):
            raise SafetensorsError(f"{path}: tensor {name!r}: entry is not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in _SIZES:
            raise SafetensorsError(f"{path}: tensor {name!r}: unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise SafetensorsError(f"{path}: tensor {name!r}: shape {shape!r} is not a list of non-negative integers")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(type(o) is int and o >= 0 for o in offsets) or offsets[0] > offsets[1]):
            raise SafetensorsError(f"{path}: tensor {name!r}: data_offsets {offsets!r} is not a pair of integers begin <= end")
        count = 1
        for d in shape:
            count *= d
        if offsets[1] - offsets[0] != count * _SIZES[dtype]:
            raise SafetensorsError(f"{path}: tensor {name!r}: {offsets[1] - offsets[0]} bytes, "
                                   f"but shape {shape} of {dtype} needs {count * _SIZES[dtype]}")
        entries.append((name, dtype, shape, offsets))
    end = 0
    for name, _, _, (begin, stop) in sorted(entries, key=lambda e: (e[3][0], e[3][1])):
        if begin != end:
            raise SafetensorsError(f"{path}: tensor {name!r}: data begins at {begin}, expected {end} "
                                   "(tensors must tile the data buffer)")
        end = stop
    if end != len(data):
        raise SafetensorsError(f"{path}: tensors cover {end} bytes of a {len(data)}-byte data buffer")
    tensors = {}
    for name, dtype, shape, (begin, stop) in entries:
        if dtype == "BF16":
            a = _bf16_bits_to_f32(np.frombuffer(data[begin:stop], dtype="<u2"))
        else:
            a = np.frombuffer(data[begin:stop], dtype=DTYPES[dtype])
            a = a.astype(a.dtype.newbyteorder("="), copy=True)
        tensors[name] = a.reshape(shape)
    return tensors, dict(metadata)
