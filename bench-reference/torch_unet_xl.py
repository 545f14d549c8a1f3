"""Same-machine reference for `unetlens bench --cases unet_xl_128_b1,unet_xl_128_b2`: the SDXL base
UNet2DConditionModel (diffusers' layout: block_out_channels 320/640/1280, 2 layers per block, transformer depth
0/2/10 with linear proj_in/proj_out, 64-wide heads, cross attention 2048, text_time add embedding 2816 → 1280, GEGLU
feed-forward, 32 norm groups) written directly in torch from torch_unet.py's pieces, random weights, float32,
torch.no_grad, the attention diffusers picks for the torch at hand (timing.ATTENTION), timestep 500, context
(B, 77, 2048), pooled text (B, 1280), time ids (1024, 1024, 0, 0, 1024, 1024); median of 3 after one warm-up; peak
RSS = ru_maxrss of this process.
    /usr/bin/python3 torch_unet_xl.py [threads] [case ...]      cases: unet_xl_128_b1 unet_xl_128_b2
One process per case: `for c in unet_xl_128_b1 unet_xl_128_b2; do python3 torch_unet_xl.py 2 $c; done`
"""
import math, sys
import torch
import torch.nn as nn
import torch.nn.functional as F
from timing import measure
from torch_unet import Block, Resnet, blocks

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)
CASES = {"unet_xl_128_b1": (128, 1), "unet_xl_128_b2": (128, 2)}
CTX, POOLED, TIME_DIM = 2048, 1280, 256


def sinusoid(t, dim):  # diffusers' get_timestep_embedding, flip_sin_to_cos, shift 0
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    arg = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(arg), torch.sin(arg)], dim=-1)


class Transformer(nn.Module):  # Transformer2DModel, linear projections (SDXL)
    def __init__(self, dim, depth):
        super().__init__()
        self.norm = nn.GroupNorm(32, dim, eps=1e-6)
        self.proj_in, self.proj_out = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.blocks = nn.ModuleList([Block(dim, CTX, dim // 64) for _ in range(depth)])  # heads of 64

    def forward(self, x, ctx):
        b, c, h, w = x.shape
        t = self.proj_in(self.norm(x).permute(0, 2, 3, 1).reshape(b, h * w, c))
        for blk in self.blocks:
            t = blk(t, ctx)
        return self.proj_out(t).reshape(b, h, w, c).permute(0, 3, 1, 2).contiguous() + x


class UNetXL(nn.Module):
    def __init__(self, ch=(320, 640, 1280), depth=(0, 2, 10)):
        super().__init__()
        self.conv_in = nn.Conv2d(4, ch[0], 3, padding=1)
        self.lin1, self.lin2 = nn.Linear(ch[0], 1280), nn.Linear(1280, 1280)
        self.add1, self.add2 = nn.Linear(POOLED + 6 * TIME_DIM, 1280), nn.Linear(1280, 1280)
        self.down = nn.ModuleList()
        skips, prev = [ch[0]], ch[0]
        for i, c in enumerate(ch):
            last = i == len(ch) - 1
            res = nn.ModuleList([Resnet(prev if j == 0 else c, c) for j in range(2)])
            tr = nn.ModuleList([Transformer(c, depth[i]) for _ in range(2)]) if depth[i] else None
            ds = None if last else nn.Conv2d(c, c, 3, stride=2, padding=1)
            self.down.append(nn.ModuleDict({"res": res, **({"tr": tr} if tr else {}), **({"ds": ds} if ds else {})}))
            skips += [c, c] + ([c] if ds else [])
            prev = c
        self.mid1, self.mid_tr, self.mid2 = Resnet(ch[-1], ch[-1]), Transformer(ch[-1], depth[-1]), Resnet(ch[-1], ch[-1])
        self.up = nn.ModuleList()
        for i, (c, d) in enumerate(zip(reversed(ch), reversed(depth))):
            res = nn.ModuleList()
            for j in range(3):
                res.append(Resnet(prev + skips.pop(), c))
                prev = c
            tr = nn.ModuleList([Transformer(c, d) for _ in range(3)]) if d else None
            us = nn.Conv2d(c, c, 3, padding=1) if i < len(ch) - 1 else None
            self.up.append(nn.ModuleDict({"res": res, **({"tr": tr} if tr else {}), **({"us": us} if us else {})}))
        self.norm_out, self.conv_out = nn.GroupNorm(32, ch[0], eps=1e-5), nn.Conv2d(ch[0], 4, 3, padding=1)

    def forward(self, x, t, ctx, pooled, time_ids):
        temb = self.lin2(F.silu(self.lin1(sinusoid(t, self.lin1.in_features))))
        added = torch.cat([pooled, sinusoid(time_ids.flatten(), TIME_DIM).reshape(x.shape[0], -1)], dim=-1)
        temb = temb + self.add2(F.silu(self.add1(added)))
        return blocks(self, x, temb, ctx)


if __name__ == "__main__":
    model = UNetXL().eval()
    for name in sys.argv[2:] or list(CASES):
        size, batch = CASES[name]
        px = 8.0 * size
        measure(name, model, torch.randn(batch, 4, size, size), torch.full((batch,), 500), torch.randn(batch, 77, CTX),
                torch.randn(batch, POOLED), torch.tensor([[px, px, 0, 0, px, px]]).repeat(batch, 1))
