"""PyTorch checkpoints (.pt/.pth, the legacy torch.save format or the zip format) read without
torch, for tools/converters/convert_face.py and tools/converters/convert_gfpgan.py: an unpickler that accepts only
what a state dict needs (OrderedDict, tensor rebuilding, the storage types) and rejects any
other global, so no code from the file is run (read_torch_state_dict)."""
import collections
import io
import pickle
import zipfile
import zlib

import numpy as np

from conversion_error import ConversionError


_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
_TORCH_PROTOCOL = 1001
# storage type -> element dtype ("bf16" is widened to float32 when a tensor is built)
_STORAGES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "BFloat16Storage": "bf16",
             "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1",
             "ByteStorage": "u1", "BoolStorage": "?", "UntypedStorage": "u1"}


class _StorageType:
    def __init__(self, name):
        self.name, self.dtype = name, _STORAGES[name]

    @property
    def itemsize(self):
        return 2 if self.dtype == "bf16" else np.dtype(self.dtype).itemsize


class _Storage:
    """A storage of the checkpoint; `data` (1-d numpy) is filled once its bytes are read."""

    def __init__(self, key, stype, numel):
        self.key, self.stype, self.numel, self.data, self.base, self.offset = key, stype, numel, None, None, 0


class _TensorRef:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise ConversionError("a tensor in the checkpoint does not refer to a storage")
    if not (isinstance(storage_offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and len(size) == len(stride) and all(isinstance(x, int) and x >= 0 for x in size + stride)):
        raise ConversionError("a tensor in the checkpoint has a malformed size or stride")
    return _TensorRef(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    return data


_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles state dicts only: any global but the allowed ones is refused."""

    def __init__(self, file, storage_for):
        super().__init__(file)
        self._storage_for = storage_for

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[(module, name)]
        if module == "torch" and name in _STORAGES:
            return _StorageType(name)
        raise ConversionError(f"the pickle refers to {module}.{name}, which is not allowed: only state dicts of "
                              "tensors are read (no code from the file is run; save model.state_dict())")

    def persistent_load(self, pid):
        if (not isinstance(pid, tuple) or len(pid) not in (5, 6) or pid[0] != "storage"
                or not isinstance(pid[1], _StorageType) or not isinstance(pid[4], int)):
            raise ConversionError(f"the pickle has a persistent id the converter does not know: {str(pid)[:60]}")
        view = pid[5] if len(pid) == 6 else None
        return self._storage_for(str(pid[2]), pid[1], int(pid[4]), view)


def _safe_load(f, storage_for=None):
    def no_storage(*_):
        raise ConversionError("a storage reference where none is expected")
    try:
        return _RestrictedUnpickler(f, storage_for or no_storage).load()
    except ConversionError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError, RecursionError) as e:
        raise ConversionError(f"malformed pickle ({type(e).__name__}: {' '.join(str(e).split())[:100]})") from None


def _storage_table():
    storages = {}

    def storage_for(key, stype, numel, view):
        root = storages.get(key)
        if root is None:
            root = storages[key] = _Storage(key, stype, numel)
        if view is None:
            return root
        # legacy storage view: (view key, offset in elements, view size)
        if not (isinstance(view, tuple) and len(view) == 3):
            raise ConversionError("malformed storage view in the checkpoint")
        vkey, offset, size = view
        v = storages.get(("view", vkey))
        if v is None:
            v = storages[("view", vkey)] = _Storage(vkey, stype, size)
            v.base, v.offset = root, int(offset)
        return v
    return storages, storage_for


def _set_storage_bytes(storage, raw, byteorder):
    st = storage.stype
    if st.dtype == "bf16":
        bits = np.frombuffer(raw, "<u2" if byteorder == "little" else ">u2")
        storage.data = (bits.astype(np.uint32) << 16).view(np.float32)
    else:
        dt = np.dtype(st.dtype)
        if byteorder != "little" and dt.itemsize > 1:
            dt = dt.newbyteorder(">")
        storage.data = np.frombuffer(raw, dt)
    if storage.data.size < storage.numel:
        raise ConversionError(f"storage {storage.key}: {storage.data.size} elements, the pickle says {storage.numel}")


def _read_legacy(blob):
    f = io.BytesIO(blob)
    magic = _safe_load(f)
    if magic != _TORCH_MAGIC:
        raise ConversionError("not a PyTorch checkpoint (neither a zip archive nor the legacy torch.save magic number)")
    protocol = _safe_load(f)
    if protocol != _TORCH_PROTOCOL:
        raise ConversionError(f"legacy torch.save protocol {protocol!r}, expected {_TORCH_PROTOCOL}")
    sys_info = _safe_load(f)
    if not isinstance(sys_info, dict):
        raise ConversionError("malformed legacy checkpoint (system info is not a dict)")
    storages, storage_for = _storage_table()
    obj = _safe_load(f, storage_for)
    keys = _safe_load(f)
    if not isinstance(keys, list):
        raise ConversionError("malformed legacy checkpoint (the storage key list is missing)")
    # The element counts and data are little-endian whatever sys_info says (torch writes them so).
    for key in keys:
        root = storages.get(str(key))
        if root is None:
            raise ConversionError(f"malformed legacy checkpoint (storage {key!r} is not referenced)")
        head = f.read(8)
        if len(head) < 8:
            raise ConversionError(f"the file is truncated (storage {key} is missing)")
        n = int.from_bytes(head, "little")
        nbytes = n * root.stype.itemsize
        raw = f.read(nbytes)
        if len(raw) < nbytes:
            raise ConversionError(f"the file is truncated (storage {key} needs {nbytes} bytes, {len(raw)} left)")
        _set_storage_bytes(root, raw, "little")
    return obj, storages


def _read_zip(blob):
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ConversionError(f"a damaged zip archive ({e})") from None
    pkl = sorted((n for n in names if n == "data.pkl" or n.endswith("/data.pkl")), key=len)
    if not pkl:
        raise ConversionError("a zip archive without data.pkl: not a torch.save checkpoint")
    prefix = pkl[0][:-len("data.pkl")]
    if any(n.startswith(prefix + "code/") for n in names):
        raise ConversionError("a TorchScript archive (torch.jit.save) is not supported: torch.save(model.state_dict())")

    def member(name):
        try:
            return zf.read(name)
        except KeyError:
            raise ConversionError(f"the archive lacks {name}") from None
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
            raise ConversionError(f"the archive member {name} is damaged ({e})") from None

    byteorder = "little"
    if prefix + "byteorder" in names:
        byteorder = member(prefix + "byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise ConversionError(f"unknown byteorder {byteorder!r} in the archive")
    storages, storage_for = _storage_table()
    obj = _safe_load(io.BytesIO(member(pkl[0])), storage_for)
    for key, st in storages.items():
        if isinstance(key, tuple):
            raise ConversionError("storage views are not expected in a zip checkpoint")
        raw = member(f"{prefix}data/{key}")
        need = st.numel * st.stype.itemsize
        if len(raw) < need:
            raise ConversionError(f"storage {key}: {len(raw)} bytes in the archive, {need} needed")
        _set_storage_bytes(st, raw[:need], byteorder)
    return obj, storages


def _tensor_array(ref):
    st = ref.storage
    data = st.data if st.base is None else st.base.data[st.offset:st.offset + st.numel]
    if data is None:
        raise ConversionError(f"storage {st.key} has no data in the file")
    if len(ref.size) == 0:
        extent = ref.offset + 1
    elif 0 in ref.size:
        return np.zeros(ref.size, data.dtype)
    else:
        extent = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride)) + 1
    if ref.offset < 0 or extent > min(st.numel, data.size):
        raise ConversionError(f"a tensor reaches past the end of storage {st.key}")
    view = np.lib.stride_tricks.as_strided(data[ref.offset:], shape=ref.size,
                                           strides=[s * data.itemsize for s in ref.stride], writeable=False)
    return np.array(view, dtype=data.dtype.newbyteorder("="))


def read_torch_state_dict(blob):
    """The state dict of a torch.save file (bytes) as {key: numpy array}, without torch."""
    if blob[:4] == b"PK\x03\x04":
        obj, _ = _read_zip(blob)
    elif blob[:2] == b"\x80\x02" or blob[:1] == b"\x80":
        obj, _ = _read_legacy(blob)
    else:
        raise ConversionError("not a PyTorch checkpoint (neither a zip archive nor a legacy torch.save file)")
    for _ in range(3):
        if isinstance(obj, dict) and obj and not all(isinstance(v, _TensorRef) for v in obj.values()):
            inner = next((obj[k] for k in ("state_dict", "model_state_dict", "model") if isinstance(obj.get(k), dict)),
                         None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, dict):
        raise ConversionError(f"the checkpoint holds a {type(obj).__name__}, not a state dict")
    if not obj:
        raise ConversionError("the state dict is empty")
    bad = next((k for k, v in obj.items() if not isinstance(v, _TensorRef)), None)
    if bad is not None:
        raise ConversionError(f"entry {bad!r} is a {type(obj[bad]).__name__}, not a tensor (expected a state dict, "
                              "or a dict with 'state_dict', 'model_state_dict' or 'model')")
    if not all(isinstance(k, str) for k in obj):
        raise ConversionError("the state dict has keys that are not strings")
    keys = list(obj)
    if all(k.startswith("module.") for k in keys):
        keys = [k[len("module."):] for k in keys]
    return {k: _tensor_array(v) for k, v in zip(keys, obj.values())}
