"""Writes sdpa.pt, the one TorchScript module unetlens loads: torch's fused scaled_dot_product_attention.

unetlens computes in Java on DJL's NDArray ops, and DJL 0.35.1 binds no fused attention; its PyTorch engine can
run a TorchScript module, and a module whose forward is this one aten call keeps every U-Net module output in
Java (q, k, v go in, the heads' mix comes out). On CPU, float32/float64 without a mask, torch dispatches it to its
flash-attention kernel (blocks of queries and keys, online softmax: no T×S matrix is ever held).

Run with torch >= 2.1 (the `scale` argument); the bundled file was written by Debian 13's python3-torch 2.6.0 in
the chroot of ../shared/perf/trixie (the file format is read by the pinned libtorch 2.7.1):
    /tmp/trixie-run.sh --cd "$PWD" unetlens-core/src/main/torchscript/make_sdpa.py OUT.pt
then check it and copy it to unetlens-core/src/main/resources/dev/unetlens/model/sdpa.pt.
"""
import sys

import torch
import torch.nn.functional as F


class Sdpa(torch.nn.Module):
    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float) -> torch.Tensor:
        """q [B, N, T, D], k [B, N, S, D], v [B, N, S, Dv] -> [B, N, T, Dv] = softmax(q·kᵀ·scale)·v."""
        return F.scaled_dot_product_attention(q, k, v, scale=scale)


def main(out):
    module = torch.jit.script(Sdpa().eval())
    # check before writing: the scripted call against the explicit softmax, in float64
    q, k, v = (torch.randn(2, 3, 37, 41, dtype=torch.float64) for _ in range(3))
    explicit = torch.softmax(q @ k.transpose(-2, -1) * 0.2, dim=-1) @ v
    assert (module(q, k, v, 0.2) - explicit).abs().max().item() < 1e-12
    torch.jit.save(module, out)
    print(f"wrote {out} with torch {torch.__version__}")


if __name__ == "__main__":
    main(sys.argv[1])
