import torch
from typing import Optional

class Ops(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.bfloat16)

    @torch.jit.export
    def to_float(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.float32)

    @torch.jit.export
    def softmax(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, -1)

    @torch.jit.export
    def group_norm(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.group_norm(x, 32, w, b, 1e-5)

torch.jit.save(torch.jit.script(Ops()), "bench-ops.pt")
