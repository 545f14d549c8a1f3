#!/usr/bin/env python3
"""Writes the small PyTorch checkpoints that unetlens' restricted pickle reader is tested on.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 testdata/ckpt-fixtures/make.py
Each case is a file written by torch.save in a form real Stable Diffusion checkpoints take, and, beside it,
<case>.expected.safetensors holding the tensors the reader must find (contiguous copies, same names and dtypes),
written here by a minimal safetensors writer. cases.json says, for each file, which dict holds the weights, which
entries of it are not tensors, and which files must be refused with which words. The same torch writes the same
bytes, except in the legacy files, whose storage keys are memory addresses.
"""
import collections
import io
import json
import os
import struct
import sys
import types

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(23)


def fake_lightning():
    """pytorch_lightning's ModelCheckpoint class, as old Lightning used it: the key of the callback state."""
    names = ["pytorch_lightning", "pytorch_lightning.callbacks", "pytorch_lightning.callbacks.model_checkpoint"]
    for n in names:
        sys.modules[n] = types.ModuleType(n)

    class ModelCheckpoint:
        pass

    ModelCheckpoint.__module__ = names[-1]
    ModelCheckpoint.__qualname__ = "ModelCheckpoint"
    sys.modules[names[-1]].ModelCheckpoint = ModelCheckpoint
    return ModelCheckpoint


ST_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
             torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
             torch.bool: "BOOL"}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors):
    header, data, offset = {}, [], 0
    for name, t in tensors.items():
        b = tensor_bytes(t)
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        data.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(data))


def ldm_state_dict(with_ema):
    """A few tensors named as an LDM checkpoint names them, with LitEma's copies and buffers when asked."""
    lin = torch.nn.Linear(4, 3)
    sd = collections.OrderedDict()
    sd["model.diffusion_model.time_embed.0.weight"] = lin.weight.detach()
    sd["model.diffusion_model.time_embed.0.bias"] = lin.bias.detach()
    sd["first_stage_model.encoder.conv_in.weight"] = torch.randn(2, 3, 3, 3)
    sd["cond_stage_model.transformer.text_model.embeddings.position_ids"] = torch.arange(5).unsqueeze(0)
    sd["betas"] = torch.linspace(0.1, 0.2, 4, dtype=torch.float32)
    if with_ema:
        sd["model_ema.decay"] = torch.tensor(0.9999)
        sd["model_ema.num_updates"] = torch.tensor(840000, dtype=torch.int32)
        sd["model_ema.diffusion_modeltime_embed0weight"] = lin.weight.detach() * 0.5
        sd["model_ema.diffusion_modeltime_embed0bias"] = lin.bias.detach() * 0.5
    sd._metadata = collections.OrderedDict([("", {"version": 1})])   # what nn.Module.state_dict() attaches
    return sd


def lightning_checkpoint(sd, model_checkpoint):
    exp_avg = torch.randn(3, 4)
    return {
        "epoch": 6,
        "global_step": 840000,
        "pytorch-lightning_version": "1.4.2",
        "state_dict": sd,
        "callbacks": {model_checkpoint: {"monitor": "val/rec_loss", "best_model_score": np.float64(0.125),
                                         "best_model_path": "logs/checkpoints/last.ckpt",
                                         "current_score": torch.tensor(0.25), "dirpath": "logs/checkpoints",
                                         "kth_value": np.array([1.5, 2.5], dtype=np.float32)}},
        "optimizer_states": [{"state": {0: {"step": 10, "exp_avg": exp_avg, "exp_avg_sq": exp_avg * exp_avg}},
                              "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999), "eps": 1e-8,
                                                "weight_decay": 0.0, "amsgrad": False, "params": [0]}]}],
        "lr_schedulers": [{"base_lrs": [1e-4], "last_epoch": 3, "_step_count": 4, "verbose": False,
                           "_last_lr": [1e-4], "lr_lambdas": [None]}],
        "hparams_name": "kwargs",
        "hyper_parameters": {"scale_factor": 0.18215, "use_ema": True, "dtype": torch.float16,
                             "tags": {"sd", "ldm"}, "blob": b"\x00\x01\xfe\xff"},
    }


def views():
    """Tensors that share storages or are not contiguous, and every dtype a state dict may hold."""
    qkv = torch.randn(6, 4)
    q, k, v = qkv.chunk(3)
    base = torch.randn(5, 6)
    tagged = torch.randn(2, 2)
    tagged.note = "a Python attribute"          # pickles through torch._tensor._rebuild_from_type_v2
    param = torch.nn.Parameter(torch.randn(3))   # torch._utils._rebuild_parameter
    stateful = torch.nn.Parameter(torch.randn(2))
    stateful.note = 1                            # torch._utils._rebuild_parameter_with_state
    sd = collections.OrderedDict()
    sd["qkv"] = qkv
    sd["q"], sd["k"], sd["v"] = q, k, v
    sd["transposed"] = base.t()
    sd["strided"] = base[::2, 1::2]
    sd["row"] = base[3]
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["tagged"] = tagged
    sd["param"] = param
    sd["stateful"] = stateful
    sd["half"] = torch.randn(2, 3).half()
    sd["bf16"] = torch.randn(3, 2).bfloat16()
    sd["double"] = torch.randn(2).double()
    sd["long"] = torch.arange(4)
    sd["int"] = torch.arange(3, dtype=torch.int32)
    sd["short"] = torch.arange(2, dtype=torch.int16)
    sd["byte"] = torch.arange(5, dtype=torch.uint8)
    sd["char"] = torch.arange(-2, 2, dtype=torch.int8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["half_view"] = sd["half"][:, 1]
    sd["step"] = 7                               # not a tensor: skipped
    return sd


class Evil:
    """A pickle that runs a shell command when loaded with pickle (or torch.load before weights_only)."""

    def __reduce__(self):
        return os.system, ("touch PWNED",)


def main():
    model_checkpoint = fake_lightning()
    cases = []

    def save(name, obj, expected, wrapper, skipped=(), legacy=False, protocol=2):
        torch.save(obj, os.path.join(HERE, name), _use_new_zipfile_serialization=not legacy, pickle_protocol=protocol)
        write_safetensors(os.path.join(HERE, name + ".expected.safetensors"), expected)
        cases.append({"file": name, "layout": "legacy" if legacy else "zip", "wrapper": list(wrapper),
                      "skipped": sorted(skipped), "expected": name + ".expected.safetensors"})

    def refuse(name, obj, words, legacy=False):
        with open(os.path.join(HERE, name), "wb") as f:
            if isinstance(obj, bytes):
                f.write(obj)
            else:
                torch.save(obj, f, _use_new_zipfile_serialization=not legacy)
        cases.append({"file": name, "refused": words})

    sd = ldm_state_dict(with_ema=True)
    save("lightning.ckpt", lightning_checkpoint(sd, model_checkpoint), sd, ["state_dict"])
    save("lightning-legacy.ckpt", lightning_checkpoint(sd, model_checkpoint), sd, ["state_dict"], legacy=True)
    v = views()
    tensors = collections.OrderedDict((k, t) for k, t in v.items() if torch.is_tensor(t))
    save("views.pt", v, tensors, [], skipped=["step"])
    save("views-legacy.pt", v, tensors, [], skipped=["step"], legacy=True)
    save("views-protocol4.pt", v, tensors, [], skipped=["step"], protocol=4)
    plain = ldm_state_dict(with_ema=False)
    save("nested.ckpt", {"state_dict": {"state_dict": plain}}, plain, ["state_dict", "state_dict"])
    save("model-wrapper.pt", {"model": plain, "optimizer": {"lr": 0.1}, "epoch": 2}, plain, ["model"])
    save("module-wrapper.pt", {"module": plain}, plain, ["module"])
    save("diffusers.bin", plain, plain, [])
    ddp = collections.OrderedDict(("module." + k, t) for k, t in plain.items())
    save("ddp.pt", ddp, plain, [])

    refuse("os-system.pt", {"state_dict": {"x": torch.zeros(1)}, "payload": Evil()}, ["global", "posix.system"])
    refuse("os-system-legacy.pt", {"payload": Evil()}, ["global", "posix.system"], legacy=True)
    refuse("expanded.pt", {"x": torch.zeros(1).expand(1000)}, ["repeats elements"])
    refuse("no-tensors.pt", {"epoch": 1, "note": "nothing here"}, ["no tensors", "epoch"])
    refuse("not-a-dict.pt", [torch.zeros(2)], ["list", "not a dict"])
    refuse("plain-pickle.pkl", __import__("pickle").dumps({"a": 1}, protocol=4), ["not a PyTorch checkpoint"])
    scripted = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), scripted)
    refuse("torchscript.pt", scripted.getvalue(), ["TorchScript"])

    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
