"""An ONNX face-recognition graph as a list of layers, for tools/converters/convert_face.py: the graph with
its constants (_Graph), a leading input normalisation absorbed into input_mean / input_std,
and the parameter-carrying nodes (Conv, BatchNormalization, PRelu, Gemm, MatMul + Add)
collected in graph order with their BatchNorms and activations (_collect_entries)."""
import collections

import numpy as np

from conversion_error import ConversionError
from onnx_reader import _Unsupported


_PASS_THROUGH = ("Identity", "Dropout")
_ALLOWED_OPS = {"Conv", "BatchNormalization", "PRelu", "Gemm", "Add", "Relu", "Clip", "Reshape", "Flatten",
                "Identity", "Dropout", "Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast"}


class _Graph:
    """Value producers, consumers and constants of a parsed graph (Identity/Dropout see-through)."""

    def __init__(self, g):
        self.nodes = g["nodes"]
        self.consts = dict(g["initializers"])
        self.alias = {}
        for n in self.nodes:
            if n.op == "Constant" and n.outputs:
                self.consts[n.outputs[0]] = self._constant_value(n)
            elif n.op in _PASS_THROUGH and n.inputs and n.outputs:
                src = self.canon(n.inputs[0])
                if src in self.consts:
                    self.consts[n.outputs[0]] = self.consts[src]
                else:
                    self.alias[n.outputs[0]] = src
        self.producer, self.consumers = {}, collections.defaultdict(list)
        for n in self.nodes:
            if n.op in _PASS_THROUGH or n.op == "Constant":
                continue
            for o in n.outputs:
                self.producer[o] = n
            for i in n.inputs:
                if i:
                    self.consumers[self.canon(i)].append(n)
        for o in g["outputs"]:
            self.consumers[self.canon(o)].append(None)  # a graph output
        self.input = next((i for i in g["inputs"] if i not in g["initializers"]), None)
        if self.input is None:
            raise ConversionError("the ONNX graph has no input")

    @staticmethod
    def _constant_value(n):
        a = n.attrs
        if "value" in a:
            return a["value"]
        if "value_float" in a:
            return np.array(a["value_float"], np.float32)
        if "value_floats" in a:
            return np.array(a["value_floats"], np.float32)
        if "value_int" in a:
            return np.array(a["value_int"], np.int64)
        if "value_ints" in a:
            return np.array(a["value_ints"], np.int64)
        return _Unsupported(n.outputs[0], "a Constant node of an unsupported kind")

    def canon(self, name):
        while name in self.alias:
            name = self.alias[name]
        return name

    def const(self, name, node, what):
        """The constant array behind input `name` of `node`, or a ConversionError."""
        v = self.consts.get(self.canon(name)) if name else None
        if v is None:
            raise ConversionError(f"{node.label()}: its {what} ({name!r}) is not a constant of the graph")
        if isinstance(v, _Unsupported):
            raise ConversionError(f"{node.label()}: its {what} ({name!r}) uses {v.why}, which is not supported")
        return v

    def is_const(self, name):
        return bool(name) and self.canon(name) in self.consts


def _ints(node, key, default):
    v = node.attrs.get(key, default)
    return [int(x) for x in v] if isinstance(v, (list, tuple)) else v


def _scalar(a):
    """The single value of a constant whose elements are all equal, else None."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    if a.size == 0 or not np.all(a == a[0]):
        return None
    return float(a[0])


def _absorb_normalisation(graph, mean, std):
    """Follows Sub/Add/Mul/Div-by-constant nodes from the graph input. Returns (value name the
    network proper reads, mean, std, the absorbed nodes); mean/std are updated so that
    (p - mean) / std is what the network proper sees when the graph is fed (p - mean0) / std0."""
    value, absorbed = graph.input, []
    while True:
        users = graph.consumers.get(value, [])
        if len(users) != 1 or users[0] is None or users[0].op not in ("Sub", "Add", "Mul", "Div"):
            return value, mean, std, absorbed
        n = users[0]
        if len(n.inputs) != 2 or len(n.outputs) != 1:
            return value, mean, std, absorbed
        first = graph.canon(n.inputs[0]) == value
        other = n.inputs[1] if first else n.inputs[0]
        if not graph.is_const(other) or (not first and n.op in ("Sub", "Div")):
            raise ConversionError(f"{n.label()}: an input normalisation the converter does not understand")
        c = _scalar(graph.const(other, n, "constant"))
        if c is None:
            raise ConversionError(f"{n.label()}: per-channel input normalisation is not supported "
                                  "(only one constant for all channels)")
        if n.op == "Sub":
            mean += c * std
        elif n.op == "Add":
            mean -= c * std
        elif n.op == "Mul":
            if c == 0:
                raise ConversionError(f"{n.label()}: multiplies the input by 0")
            std /= c
        else:
            if c == 0:
                raise ConversionError(f"{n.label()}: divides the input by 0")
            std *= c
        value = graph.canon(n.outputs[0])
        absorbed.append(n)


class _Entry:
    """A parameter-carrying op of the graph: conv, linear, bn (standalone) or prelu."""

    def __init__(self, kind, node, inp, out):
        self.kind, self.node, self.input, self.out = kind, node, inp, out
        self.weight = self.bias = None
        self.bn = None  # (gamma, beta, mean, var, eps, node) of a BatchNormalization folded into it
        self.attrs = {}

    def describe(self):
        w = None if self.weight is None else list(self.weight.shape)
        if self.kind == "conv":
            a = self.attrs
            k = a["kernel"]
            return (f"Conv weight {w}, kernel {k[0]}x{k[1] if len(k) > 1 else k[0]}, stride {a['strides']}, "
                    f"pads {a['pads']}, group {a['group']}")
        if self.kind == "linear":
            return f"{self.node.op} weight [out, in] = {w}"
        if self.kind == "bn":
            return f"BatchNormalization of {self.weight.size} channels"
        return f"PRelu with {self.weight.size} slopes"


def _bn_params(graph, n):
    if len(n.inputs) < 5:
        raise ConversionError(f"{n.label()}: has {len(n.inputs)} inputs, expected 5")
    if int(n.attrs.get("training_mode", 0)) != 0:
        raise ConversionError(f"{n.label()}: training_mode is set (export the model in eval mode)")
    if int(n.attrs.get("spatial", 1)) != 1:
        raise ConversionError(f"{n.label()}: spatial=0 BatchNormalization is not supported")
    vals = [np.asarray(graph.const(n.inputs[i], n, what), np.float64).reshape(-1)
            for i, what in zip(range(1, 5), ("scale", "bias", "mean", "variance"))]
    if len({v.size for v in vals}) != 1:
        raise ConversionError(f"{n.label()}: scale, bias, mean and variance differ in length")
    eps = float(n.attrs.get("epsilon", 1e-5))
    if not eps > 0:
        raise ConversionError(f"{n.label()}: epsilon {eps} is not positive")
    return vals + [eps, n]


def _collect_entries(graph, skip):
    """The parameter-carrying ops in graph order, with BatchNorms attached to the Conv/linear they
    follow; checks the other nodes. `skip`: the absorbed input-normalisation nodes."""
    entries, by_out = [], {}
    skip = {id(n) for n in skip}
    for n in graph.nodes:
        if id(n) in skip:
            continue
        if n.domain not in ("", "ai.onnx"):
            raise ConversionError(f"{n.label()}: an op of domain {n.domain!r} is not part of MobileFaceNet or IResNet")
        ins = [graph.canon(i) if i else "" for i in n.inputs]
        if n.op == "Conv":
            e = _Entry("conv", n, ins[0], n.outputs[0])
            if len(ins) < 2:
                raise ConversionError(f"{n.label()}: has no weight input")
            e.weight = np.asarray(graph.const(ins[1], n, "weight"), np.float64)
            if e.weight.ndim != 4:
                raise ConversionError(f"{n.label()}: a {e.weight.ndim - 2}-d convolution, expected 2-d")
            if len(ins) > 2 and ins[2]:
                e.bias = np.asarray(graph.const(ins[2], n, "bias"), np.float64).reshape(-1)
            auto_pad = n.attrs.get("auto_pad", b"NOTSET")
            auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
            pads = _ints(n, "pads", [0, 0, 0, 0])
            if auto_pad not in ("NOTSET", "VALID"):
                raise ConversionError(f"{n.label()}: auto_pad {auto_pad} is not supported (explicit pads only)")
            e.attrs = {"kernel": _ints(n, "kernel_shape", list(e.weight.shape[2:])), "strides": _ints(n, "strides", [1, 1]),
                       "pads": pads if auto_pad == "NOTSET" else [0, 0, 0, 0], "group": int(n.attrs.get("group", 1)),
                       "dilations": _ints(n, "dilations", [1, 1])}
        elif n.op == "Gemm":
            e = _Entry("linear", n, ins[0], n.outputs[0])
            if int(n.attrs.get("transA", 0)):
                raise ConversionError(f"{n.label()}: transA=1 is not supported")
            b = np.asarray(graph.const(ins[1], n, "weight (B)"), np.float64)
            if b.ndim != 2:
                raise ConversionError(f"{n.label()}: weight B has {b.ndim} dimensions, expected 2")
            e.weight = float(n.attrs.get("alpha", 1.0)) * (b if int(n.attrs.get("transB", 0)) else b.T)
            if len(ins) > 2 and ins[2]:
                c = np.asarray(graph.const(ins[2], n, "bias (C)"), np.float64).reshape(-1)
                if c.size == 1:
                    c = np.full(e.weight.shape[0], c[0])
                e.bias = float(n.attrs.get("beta", 1.0)) * c
        elif n.op == "MatMul" and len(ins) == 2 and graph.is_const(ins[1]):
            e = _Entry("linear", n, ins[0], n.outputs[0])
            b = np.asarray(graph.const(ins[1], n, "weight"), np.float64)
            if b.ndim != 2:
                raise ConversionError(f"{n.label()}: weight has {b.ndim} dimensions, expected 2")
            e.weight = b.T
        elif n.op == "Add" and len(ins) == 2 and any(i in by_out for i in ins) and any(graph.is_const(i) for i in ins):
            src = by_out[ins[0] if ins[0] in by_out else ins[1]]
            c = np.asarray(graph.const(ins[1] if ins[0] in by_out else ins[0], n, "bias"), np.float64).reshape(-1)
            if src.kind != "linear" or src.node.op != "MatMul" or src.bias is not None or src.bn is not None:
                raise ConversionError(f"{n.label()}: adds a constant to the output of {src.node.label()}, "
                                      "which is not a layer of these networks")
            if len(graph.consumers[src.out]) != 1:
                raise ConversionError(f"{src.node.label()}: its output is used before its bias is added")
            src.bias = np.full(src.weight.shape[0], c[0]) if c.size == 1 else c
            del by_out[src.out]
            src.out = n.outputs[0]
            by_out[src.out] = src
            continue
        elif n.op == "BatchNormalization":
            src = by_out.get(ins[0])
            params = _bn_params(graph, n)
            if src is not None and src.kind in ("conv", "linear") and src.bn is None:
                if len(graph.consumers[src.out]) != 1:
                    raise ConversionError(f"{src.node.label()}: its output feeds {n.label()} and other nodes, "
                                          "so the BatchNorm cannot be folded")
                src.bn = params
                del by_out[src.out]
                src.out = n.outputs[0]
                by_out[src.out] = src
                continue
            e = _Entry("bn", n, ins[0], n.outputs[0])
            e.weight, e.bn = params[0], params
        elif n.op == "PRelu":
            e = _Entry("prelu", n, ins[0], n.outputs[0])
            if len(ins) < 2:
                raise ConversionError(f"{n.label()}: has no slope input")
            e.weight = np.asarray(graph.const(ins[1], n, "slope"), np.float64).reshape(-1)
        else:
            _check_plain_node(graph, n)
            continue
        entries.append(e)
        by_out[e.out] = e
    return entries


def _check_plain_node(graph, n):
    """A node without parameters: its op must be one these networks use, with no weight-like constant."""
    if n.op not in _ALLOWED_OPS:
        raise ConversionError(f"{n.label()}: op {n.op} is not part of MobileFaceNet or IResNet")
    if n.op == "Add" and any(graph.is_const(i) for i in n.inputs):
        raise ConversionError(f"{n.label()}: adds a constant, which is not part of MobileFaceNet or IResNet")
    if n.op == "Clip":
        lo, hi = _clip_bounds(graph, n)
        if (lo, hi) != (0.0, 6.0):
            raise ConversionError(f"{n.label()}: Clip({lo}, {hi}) is not ReLU6")
    if n.op == "Gather":  # only shape arithmetic, never a gather from the data (e.g. a channel swap)
        src = graph.producer.get(graph.canon(n.inputs[0]))
        if not (graph.is_const(n.inputs[0]) or (src is not None and src.op == "Shape")):
            raise ConversionError(f"{n.label()}: a Gather from the data is not part of MobileFaceNet or IResNet")


def _clip_bounds(graph, n):
    lo, hi = n.attrs.get("min", -np.inf), n.attrs.get("max", np.inf)
    if len(n.inputs) > 1 and n.inputs[1]:
        lo = _scalar(graph.const(n.inputs[1], n, "min"))
    if len(n.inputs) > 2 and n.inputs[2]:
        hi = _scalar(graph.const(n.inputs[2], n, "max"))
    return (None if lo is None else float(lo)), (None if hi is None else float(hi))
