#!/usr/bin/env python3
"""Writes a single-file safetensors checkpoint as the .ckpt torch.save makes of it, for `unetlens convert`'s
measurement: the tensors of IN (an LDM single file, e.g. the bench's random SD 1.5 written by `unetlens convert`)
saved by torch's own torch.save as a PyTorch Lightning checkpoint {"state_dict": OrderedDict(keys sorted),
"epoch": 6, "global_step": 840000}, the form of the CompVis/runwayml SD 1.x files. The tensors are views of the
memory-mapped input (torch.frombuffer), so the script holds little memory of its own.

    /usr/bin/python3 sd15_ckpt.py IN.safetensors OUT.ckpt     # Debian 12's python3-torch (1.13)
"""
import collections
import json
import mmap
import struct
import sys
import warnings

import torch

DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2),
          "F64": (torch.float64, 8), "I64": (torch.int64, 8), "I32": (torch.int32, 4)}


def read(path):
    f = open(path, "rb")
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    n = struct.unpack("<Q", m[:8])[0]
    header = json.loads(m[8:8 + n])
    header.pop("__metadata__", None)
    sd = collections.OrderedDict()
    for name in sorted(header):
        e = header[name]
        begin, end = e["data_offsets"]
        dtype, size = DTYPES[e["dtype"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # the mapping is read-only; torch.save only reads it
            t = torch.frombuffer(m, dtype=dtype, count=(end - begin) // size, offset=8 + n + begin)
        sd[name] = t.reshape(e["shape"])
    return sd


def main():
    src, dst = sys.argv[1], sys.argv[2]
    sd = read(src)
    torch.save({"state_dict": sd, "epoch": 6, "global_step": 840000}, dst)
    print(f"{dst}: {len(sd)} tensors, {sum(t.numel() for t in sd.values()):,} elements")


if __name__ == "__main__":
    main()
