#!/usr/bin/env python3
"""Writes and reads PyTorch checkpoint files without PyTorch, byte-compatible with torch.save.

torch.save (PyTorch >= 1.6) writes a zip archive: <name>/data.pkl (pickle protocol 2) whose
tensors are persistent references ('storage', torch.<Type>Storage, key, location, numel) to the
raw little-endian bytes in <name>/data/<key>, rebuilt by torch._utils._rebuild_tensor_v2; plus
<name>/version and <name>/byteorder. This module emits exactly those opcodes through stand-in
`torch` modules, so the tests can write checkpoints with mmdetection3d's layout and check what
ptqat exports on a machine without PyTorch.

  torch_checkpoint.py write SPEC.json OUT.pth   # SPEC: {"nest": "state_dict" | null,
                                                #        "tensors": {name: {"shape", "dtype", "seed"}}}
  torch_checkpoint.py read FILE.pth OUT.json    # name -> {"shape", "dtype", "sum", "values"[:8]}

With a real PyTorch (the venv of PTQAT_TORCH=pip), two more commands check the format against it:
  torch_checkpoint.py torch-read FILE.pth OUT.json   # as `read`, through torch.load(weights_only=True)
  torch_checkpoint.py torch-resave IN.pth OUT.pth    # torch.load, then torch.save in mmdetection3d's
                                                     # layout (meta, state_dict, optimizer)
"""
import collections
import io
import json
import pickle
import sys
import types
import zipfile

import numpy as np

DTYPES = {"float32": ("FloatStorage", np.float32), "int64": ("LongStorage", np.int64),
          "float64": ("DoubleStorage", np.float64), "uint8": ("ByteStorage", np.uint8)}
STORAGE_DTYPES = {storage: dtype for storage, dtype in DTYPES.values()}


def _stand_in_torch():
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    for storage in STORAGE_DTYPES:
        cls = type(storage, (), {"__module__": "torch"})
        setattr(torch, storage, cls)

    def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None):
        itemsize = storage.dtype.itemsize
        return np.lib.stride_tricks.as_strided(
            storage[offset:], shape=size, strides=[s * itemsize for s in stride]).copy()

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    return torch, utils


TORCH, UTILS = _stand_in_torch()


class _Tensor:
    """A numpy array that pickles as torch.save pickles a tensor."""

    def __init__(self, array):
        self.array = np.array(array, order="C")  # keeps 0-d arrays 0-d

    def __reduce_ex__(self, protocol):
        strides = [s // self.array.itemsize for s in self.array.strides]
        return (UTILS._rebuild_tensor_v2,
                (_StorageRef(self.array), 0, tuple(self.array.shape), tuple(strides), False,
                 collections.OrderedDict()))


class _StorageRef:
    def __init__(self, array):
        self.array = array


def write(obj, path, archive="archive"):
    storages = []

    class Pickler(pickle.Pickler):
        def persistent_id(self, item):
            if isinstance(item, _StorageRef):
                key = str(len(storages))
                storages.append(item.array)
                storage = [s for s, d in DTYPES.values() if d == item.array.dtype.type][0]
                return ("storage", getattr(TORCH, storage), key, "cpu", item.array.size)
            return None

    data = io.BytesIO()
    Pickler(data, protocol=2).dump(obj)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{archive}/data.pkl", data.getvalue())
        z.writestr(f"{archive}/byteorder", "little")
        for key, array in enumerate(storages):
            z.writestr(f"{archive}/data/{key}", array.astype(array.dtype.newbyteorder("<")).tobytes())
        z.writestr(f"{archive}/version", "3\n")


def read(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl")][0]
        prefix = pkl[: -len("data.pkl")]

        class Unpickler(pickle.Unpickler):
            def persistent_load(self, pid):
                kind, storage, key, location, numel = pid
                dtype = STORAGE_DTYPES[storage.__name__]
                return np.frombuffer(z.read(f"{prefix}data/{key}"), dtype=np.dtype(dtype).newbyteorder("<"))

            def find_class(self, module, name):
                if module == "collections" and name == "OrderedDict":
                    return collections.OrderedDict
                if module == "torch._utils" and name == "_rebuild_tensor_v2":
                    return UTILS._rebuild_tensor_v2
                if module == "torch.jit._pickle" and name == "restore_type_tag":
                    return lambda value, type_str: value  # what torch.jit._pickle does
                if module == "torch" and name in STORAGE_DTYPES:
                    return getattr(TORCH, name)
                raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

        return Unpickler(io.BytesIO(z.read(pkl))).load()


def summary(state):
    return {name: {"shape": list(a.shape), "dtype": str(a.dtype), "sum": float(np.sum(a, dtype=np.float64)),
                   "values": [float(v) for v in a.reshape(-1)[:8]]} for name, a in state.items()}


def real_torch():
    """The installed PyTorch, under the name the stand-in took."""
    for name in ("torch", "torch._utils"):
        sys.modules.pop(name, None)
    import torch
    return torch


def main():
    command, source, target = sys.argv[1:4]
    if command == "torch-read":
        torch = real_torch()
        obj = torch.load(source, weights_only=True)
        state = obj.get("state_dict", obj)
        json.dump(summary({name: t.numpy() for name, t in state.items()}), open(target, "w"), indent=1)
    elif command == "torch-resave":
        torch = real_torch()
        state = torch.load(source, weights_only=True)
        state = state.get("state_dict", state)
        torch.save({"meta": {"mmdet3d_version": "1.4.0", "epoch": 20, "CLASSES": ("car", "truck")},
                    "state_dict": collections.OrderedDict(state),
                    "optimizer": {"state": {}, "param_groups": [{"lr": 1e-4}]}}, target)
    elif command == "write":
        spec = json.load(open(source))
        state = collections.OrderedDict()
        for name, tensor in spec["tensors"].items():
            rng = np.random.default_rng(tensor.get("seed", 0))
            dtype = DTYPES[tensor.get("dtype", "float32")][1]
            values = rng.standard_normal(tensor["shape"]) * 0.1
            if name.endswith("running_var"):
                values = np.abs(values) + 0.5
            state[name] = _Tensor(values.astype(dtype) if dtype != np.int64 else np.asarray(7, np.int64).reshape(tensor["shape"]))
        # nn.Module.state_dict() sets this attribute; pickle writes it with a BUILD opcode.
        state._metadata = collections.OrderedDict([("", {"version": 1})])
        obj = state
        if spec.get("nest"):
            # mmdetection3d's layout: meta, state_dict, optimizer.
            obj = {"meta": {"mmdet3d_version": "1.0.0rc6", "epoch": 20, "CLASSES": ("car", "truck")},
                   spec["nest"]: state, "optimizer": {"state": {}, "param_groups": [{"lr": 1e-4}]}}
        write(obj, target, spec.get("archive", "archive"))
    elif command == "read":
        obj = read(source)
        if isinstance(obj, dict) and "state_dict" in obj:
            obj = obj["state_dict"]
        json.dump(summary(obj), open(target, "w"), indent=1)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
