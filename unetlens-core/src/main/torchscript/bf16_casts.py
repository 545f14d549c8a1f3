"""Writes src/main/resources/dev/unetlens/model/bf16-casts.pt, the TorchScript module Bf16 loads.

DJL 0.35.1 cannot make a bfloat16 tensor (its JNI maps DataType.BFLOAT16 to no torch dtype and aborts the JVM), so
this one-method module does the cast: forward(x) = x.to(torch.bfloat16), row-major (a strided view cast as it
lies made the attention products slower in bf16 than in fp32: 2.47 s against 2.16 s of self-attention in the bench). Written with Debian's python3-torch 1.13
(libtorch 2.7.1 loads it):  /usr/bin/python3 src/main/torchscript/bf16_casts.py   (from unetlens-core)
"""
import torch


class Bf16Cast(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.bfloat16, memory_format=torch.contiguous_format)


torch.jit.save(torch.jit.script(Bf16Cast()), "src/main/resources/dev/unetlens/model/bf16-casts.pt")
