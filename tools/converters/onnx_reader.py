"""ONNX files read without the onnx package, for tools/converters/convert_face.py: just the protobuf wire
format ONNX needs, the tensors (every dtype, raw or typed data) and the graph's nodes,
attributes, initializers, inputs and outputs (read_onnx)."""
import struct

import numpy as np

from conversion_error import ConversionError


_WIRE_VARINT, _WIRE_FIXED64, _WIRE_LEN, _WIRE_FIXED32 = 0, 1, 2, 5


def _varint(buf, pos):
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ConversionError("truncated protobuf (a varint runs past the end)")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ConversionError("malformed protobuf (a varint longer than 10 bytes)")


def _signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _fields(buf):
    """Yields (field number, wire type, value) of a message: an int for varint and fixed
    fields (fixed ones as raw unsigned), a memoryview for length-delimited ones."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise ConversionError("malformed protobuf (field number 0)")
        if wire == _WIRE_VARINT:
            value, pos = _varint(buf, pos)
        elif wire == _WIRE_FIXED64:
            if pos + 8 > end:
                raise ConversionError("truncated protobuf (a 64-bit field runs past the end)")
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == _WIRE_FIXED32:
            if pos + 4 > end:
                raise ConversionError("truncated protobuf (a 32-bit field runs past the end)")
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        elif wire == _WIRE_LEN:
            n, pos = _varint(buf, pos)
            if pos + n > end:
                raise ConversionError("truncated protobuf (a field of %d bytes runs past the end)" % n)
            value, pos = buf[pos:pos + n], pos + n
        else:
            raise ConversionError(f"malformed protobuf (unsupported wire type {wire} in field {field})")
        yield field, wire, value


def _text(v):
    try:
        return bytes(v).decode("utf-8")
    except UnicodeDecodeError:
        raise ConversionError("malformed ONNX (a string is not UTF-8)") from None


def _packed_varints(v):
    out, pos = [], 0
    while pos < len(v):
        x, pos = _varint(v, pos)
        out.append(x)
    return out


def _repeated_ints(wire, value, into):
    """Appends a repeated int64 field's values (packed or not) to `into`, as signed ints."""
    if wire == _WIRE_LEN:
        into.extend(_signed64(x) for x in _packed_varints(value))
    elif wire == _WIRE_VARINT:
        into.append(_signed64(value))
    else:
        raise ConversionError(f"malformed ONNX (repeated integer with wire type {wire})")


def _f32(bits):
    """A float32 field as the shortest decimal that round-trips (1e-05, not 9.99999974737875e-06)."""
    return float(str(np.float32(struct.unpack("<f", struct.pack("<I", bits))[0])))


def _snap(v):
    """`v` rounded to 7 significant digits when that changes it by less than float32 resolution
    (127.49999245978005, from a float32 1/127.5, becomes 127.5)."""
    short = float(f"{v:.7g}")
    return short if abs(short - v) <= abs(v) * 2.0 ** -23 else v


# ONNX TensorProto.DataType -> numpy dtype (little-endian); BFLOAT16 (16) handled apart
_ONNX_DTYPES = {1: "<f4", 2: "u1", 3: "i1", 4: "<u2", 5: "<i2", 6: "<i4", 7: "<i8", 9: "?", 10: "<f2",
                11: "<f8", 12: "<u4", 13: "<u8", 16: "<u2"}
_ONNX_DTYPE_NAMES = {0: "UNDEFINED", 8: "STRING", 14: "COMPLEX64", 15: "COMPLEX128"}


class _Unsupported:
    """A tensor the converter cannot decode; an error only if a layer needs it."""

    def __init__(self, name, why):
        self.name, self.why = name, why


def _parse_tensor(buf):
    dims, dtype, name, raw, location = [], 0, "", None, 0
    floats, doubles, ints = [], [], []
    for field, wire, v in _fields(buf):
        if field == 1:
            _repeated_ints(wire, v, dims)
        elif field == 2:
            dtype = v
        elif field == 3:
            return _Unsupported(name, "segmented tensor")
        elif field == 4:  # float_data, packed or not
            if wire == _WIRE_LEN:
                if len(v) % 4:
                    raise ConversionError("malformed ONNX (float_data length not a multiple of 4)")
                floats.append(np.frombuffer(v, "<f4"))
            else:
                floats.append(np.array([_f32(v)], np.float32))
        elif field in (5, 7, 11):  # int32_data, int64_data, uint64_data
            _repeated_ints(wire, v, ints)
        elif field == 8:
            name = _text(v)
        elif field == 9:
            raw = v
        elif field == 10:
            if wire == _WIRE_LEN:
                doubles.append(np.frombuffer(v, "<f8"))
            else:
                doubles.append(np.array([v], np.uint64).view(np.float64))
        elif field == 14:
            location = v
    if location == 1:
        return _Unsupported(name, "data stored outside the .onnx file (external data)")
    if dtype not in _ONNX_DTYPES:
        return _Unsupported(name, f"data type {_ONNX_DTYPE_NAMES.get(dtype, dtype)}")
    np_dtype = np.dtype(_ONNX_DTYPES[dtype])
    if raw is not None:
        if len(raw) % np_dtype.itemsize:
            raise ConversionError(f"malformed ONNX (tensor {name!r}: raw_data of {len(raw)} bytes)")
        a = np.frombuffer(raw, np_dtype)
    elif floats:
        a = np.concatenate(floats)
    elif doubles:
        a = np.concatenate(doubles)
    elif ints:
        if np_dtype.kind == "f" or dtype == 16:  # float16 / bfloat16 bits in int32_data
            a = (np.array(ints, np.int64) & 0xFFFF).astype("<u2")
            if dtype == 10:
                a = a.view("<f2")
        else:
            a = np.array(ints, np.int64).astype(np_dtype)
    else:
        a = np.zeros(0, np_dtype)
    if dtype == 16:  # bfloat16: the high half of a float32
        a = (a.astype(np.uint32) << 16).view(np.float32)
    count = int(np.prod(dims)) if dims else 1
    if a.size != count:
        raise ConversionError(f"malformed ONNX (tensor {name!r}: {a.size} values for dims {dims})")
    return name, a.reshape(dims).astype(a.dtype.newbyteorder("="))


def _tensor_value(t):
    """A decoded tensor (name, array) or _Unsupported -> array or _Unsupported."""
    return t if isinstance(t, _Unsupported) else t[1]


def _parse_attribute(buf):
    name, value, floats, ints, kind = "", None, [], [], None
    for field, wire, v in _fields(buf):
        if field == 1:
            name = _text(v)
        elif field == 2:
            value = _f32(v) if wire == _WIRE_FIXED32 else value
        elif field == 3:
            value = _signed64(v)
        elif field == 4:
            value = bytes(v)
        elif field == 5:
            value = _tensor_value(_parse_tensor(v))
        elif field == 7:
            if wire == _WIRE_LEN:
                floats.extend(np.frombuffer(v, "<f4").tolist())
            else:
                floats.append(_f32(v))
            kind = "floats"
        elif field == 8:
            _repeated_ints(wire, v, ints)
            kind = "ints"
        elif field == 20:
            kind = {6: "floats", 7: "ints"}.get(v, kind)
    if kind == "floats":
        value = floats
    elif kind == "ints":
        value = ints
    return name, value


class _Node:
    def __init__(self, index):
        self.index, self.inputs, self.outputs, self.name, self.op, self.domain, self.attrs = index, [], [], "", "", "", {}

    def label(self):
        return f"ONNX node {self.name!r} ({self.op})" if self.name else f"ONNX node #{self.index} ({self.op})"


def _parse_node(buf, index):
    n = _Node(index)
    for field, _, v in _fields(buf):
        if field == 1:
            n.inputs.append(_text(v))
        elif field == 2:
            n.outputs.append(_text(v))
        elif field == 3:
            n.name = _text(v)
        elif field == 4:
            n.op = _text(v)
        elif field == 5:
            k, val = _parse_attribute(v)
            n.attrs[k] = val
        elif field == 7:
            n.domain = _text(v)
    return n


def _value_info_name(buf):
    for field, _, v in _fields(buf):
        if field == 1:
            return _text(v)
    return ""


def read_onnx(blob):
    """The graph of an ONNX ModelProto: dict(nodes, initializers {name: array or _Unsupported},
    inputs, outputs, opset)."""
    buf = memoryview(blob)
    graph, opset = None, None
    for field, wire, v in _fields(buf):
        if field == 7 and wire == _WIRE_LEN:
            graph = v
        elif field == 8 and wire == _WIRE_LEN:
            domain, version = "", None
            for f2, _, v2 in _fields(v):
                if f2 == 1:
                    domain = _text(v2)
                elif f2 == 2:
                    version = v2
            if domain in ("", "ai.onnx"):
                opset = version
    if graph is None:
        raise ConversionError("not an ONNX model (no graph)")
    nodes, inits, inputs, outputs = [], {}, [], []
    for field, wire, v in _fields(graph):
        if wire != _WIRE_LEN:
            continue
        if field == 1:
            nodes.append(_parse_node(v, len(nodes)))
        elif field == 5:
            t = _parse_tensor(v)
            if isinstance(t, _Unsupported):
                inits[t.name] = t
            else:
                inits[t[0]] = t[1]
        elif field == 11:
            inputs.append(_value_info_name(v))
        elif field == 12:
            outputs.append(_value_info_name(v))
    if not nodes:
        raise ConversionError("not an ONNX model of a network (the graph has no nodes)")
    return {"nodes": nodes, "initializers": inits, "inputs": inputs, "outputs": outputs, "opset": opset}
