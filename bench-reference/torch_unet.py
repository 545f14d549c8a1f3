"""Same-machine reference for `unetlens bench --cases unet_64_b1,unet_64_b2,unet_32_b1,unet_32_b2`: the SD 1.5
UNet2DConditionModel (diffusers' layout: block_out_channels 320/640/1280/1280, 2 layers per block, 8 heads, cross
attention 768, conv proj_in/proj_out, GEGLU feed-forward, 32 norm groups) written directly in torch, random weights,
float32, torch.no_grad, the attention diffusers picks for the torch at hand (timing.ATTENTION: AttnProcessor2_0's
scaled_dot_product_attention on torch 2.x, AttnProcessor's baddbmm, softmax, bmm on 1.13), timestep 500, context
(B, 77, 768); median of 3 after one warm-up; peak RSS = ru_maxrss of this process.
Run with Debian's python3-torch (1.13.1 on Debian 12, the reference file's torch; 2.6.0 on Debian 13) and OpenBLAS
(see README.md here):
    /usr/bin/python3 torch_unet.py [threads] [case ...]      cases: unet_64_b1 unet_64_b2 unet_32_b1 unet_32_b2
One process per case, as the reference file measured them: `for c in unet_64_b1 ...; do python3 torch_unet.py 2 $c; done`
"""
import math, sys
import torch
import torch.nn as nn
from timing import ATTENTION, measure
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)
CASES = {"unet_64_b1": (64, 1), "unet_64_b2": (64, 2), "unet_32_b1": (32, 1), "unet_32_b2": (32, 2)}


class Resnet(nn.Module):
    def __init__(self, cin, cout, temb=1280):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(32, cin, eps=1e-5), nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2, self.conv2 = nn.GroupNorm(32, cout, eps=1e-5), nn.Conv2d(cout, cout, 3, padding=1)
        self.short = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.short(x) if self.short is not None else x) + h


class Attn(nn.Module):  # diffusers' Attention with AttnProcessor2_0 (SDPA) or AttnProcessor (explicit)
    def __init__(self, dim, ctx, heads=8):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k, self.to_v = nn.Linear(ctx, dim, bias=False), nn.Linear(ctx, dim, bias=False)
        self.to_out = nn.Linear(dim, dim)

    def split(self, t):
        b, n, d = t.shape
        return t.reshape(b, n, self.heads, d // self.heads).permute(0, 2, 1, 3).reshape(b * self.heads, n, d // self.heads)

    def forward(self, x, ctx=None):
        ctx = x if ctx is None else ctx
        if ATTENTION == "sdpa":  # AttnProcessor2_0: [B, N, T, D] views, one fused call
            b, n, d = x.shape
            heads = lambda t: t.view(b, -1, self.heads, d // self.heads).transpose(1, 2)
            o = F.scaled_dot_product_attention(heads(self.to_q(x)), heads(self.to_k(ctx)), heads(self.to_v(ctx)))
            return self.to_out(o.transpose(1, 2).reshape(b, -1, d))
        q, k, v = self.split(self.to_q(x)), self.split(self.to_k(ctx)), self.split(self.to_v(ctx))
        s = torch.baddbmm(torch.empty(q.shape[0], q.shape[1], k.shape[1]), q, k.transpose(-1, -2), beta=0, alpha=self.scale)
        o = torch.bmm(s.softmax(-1), v)
        b = x.shape[0]
        o = o.reshape(b, self.heads, o.shape[1], o.shape[2]).permute(0, 2, 1, 3).reshape(b, o.shape[1], -1)
        return self.to_out(o)


class Block(nn.Module):  # BasicTransformerBlock
    def __init__(self, dim, ctx, heads=8):
        super().__init__()
        self.norm1, self.attn1 = nn.LayerNorm(dim), Attn(dim, dim, heads)
        self.norm2, self.attn2 = nn.LayerNorm(dim), Attn(dim, ctx, heads)
        self.norm3, self.proj, self.out = nn.LayerNorm(dim), nn.Linear(dim, 8 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x, ctx):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), ctx) + x
        h, gate = self.proj(self.norm3(x)).chunk(2, dim=-1)
        return self.out(h * F.gelu(gate)) + x


class Transformer(nn.Module):  # Transformer2DModel, conv projections (SD 1.x)
    def __init__(self, dim, ctx=768):
        super().__init__()
        self.norm = nn.GroupNorm(32, dim, eps=1e-6)
        self.proj_in, self.block, self.proj_out = nn.Conv2d(dim, dim, 1), Block(dim, ctx), nn.Conv2d(dim, dim, 1)

    def forward(self, x, ctx):
        b, c, h, w = x.shape
        t = self.proj_in(self.norm(x)).permute(0, 2, 3, 1).reshape(b, h * w, c)
        t = self.block(t, ctx).reshape(b, h, w, c).permute(0, 3, 1, 2).contiguous()
        return self.proj_out(t) + x


class UNet(nn.Module):
    def __init__(self, ch=(320, 640, 1280, 1280)):
        super().__init__()
        self.conv_in = nn.Conv2d(4, ch[0], 3, padding=1)
        self.lin1, self.lin2 = nn.Linear(ch[0], 1280), nn.Linear(1280, 1280)
        self.down = nn.ModuleList()
        skips, prev = [ch[0]], ch[0]
        for i, c in enumerate(ch):
            attn = i < 3
            res = nn.ModuleList([Resnet(prev if j == 0 else c, c) for j in range(2)])
            tr = nn.ModuleList([Transformer(c) for _ in range(2)]) if attn else None
            ds = nn.Conv2d(c, c, 3, stride=2, padding=1) if i < 3 else None
            self.down.append(nn.ModuleDict({"res": res, **({"tr": tr} if tr else {}), **({"ds": ds} if ds else {})}))
            skips += [c, c] + ([c] if ds else [])
            prev = c
        self.mid1, self.mid_tr, self.mid2 = Resnet(1280, 1280), Transformer(1280), Resnet(1280, 1280)
        self.up = nn.ModuleList()
        rch = list(reversed(ch))
        for i, c in enumerate(rch):
            attn = i > 0
            res = nn.ModuleList()
            for j in range(3):
                skip = skips.pop()
                res.append(Resnet(prev + skip, c))
                prev = c
            tr = nn.ModuleList([Transformer(c) for _ in range(3)]) if attn else None
            us = nn.Conv2d(c, c, 3, padding=1) if i < 3 else None
            self.up.append(nn.ModuleDict({"res": res, **({"tr": tr} if tr else {}), **({"us": us} if us else {})}))
        self.norm_out, self.conv_out = nn.GroupNorm(32, ch[0], eps=1e-5), nn.Conv2d(ch[0], 4, 3, padding=1)

    def forward(self, x, t, ctx):
        half = 160
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        arg = t[:, None].float() * freqs[None]
        temb = torch.cat([torch.cos(arg), torch.sin(arg)], dim=-1)  # flip_sin_to_cos
        temb = self.lin2(F.silu(self.lin1(temb)))
        return blocks(self, x, temb, ctx)


def blocks(unet, x, temb, ctx):
    """conv_in, the down blocks (skips saved), the mid block, the up blocks (skips concatenated), norm_out and conv_out
    of a U-Net built as UNet here and UNetXL in torch_unet_xl.py."""
    h = unet.conv_in(x)
    saved = [h]
    for blk in unet.down:
        for j, r in enumerate(blk["res"]):
            h = r(h, temb)
            if "tr" in blk:
                h = blk["tr"][j](h, ctx)
            saved.append(h)
        if "ds" in blk:
            h = blk["ds"](h)
            saved.append(h)
    h = unet.mid2(unet.mid_tr(unet.mid1(h, temb), ctx), temb)
    for blk in unet.up:
        for j, r in enumerate(blk["res"]):
            h = r(torch.cat([h, saved.pop()], dim=1), temb)
            if "tr" in blk:
                h = blk["tr"][j](h, ctx)
        if "us" in blk:  # to the next skip's size, as diffusers' forward_upsample_size does for odd latents
            h = blk["us"](F.interpolate(h, size=saved[-1].shape[-2:], mode="nearest"))
    return unet.conv_out(F.silu(unet.norm_out(h)))


if __name__ == "__main__":  # torch_sdhelper.py imports the modules
    model = UNet().eval()
    for name in sys.argv[2:] or list(CASES):
        size, batch = CASES[name]
        measure(name, model, torch.randn(batch, 4, size, size), torch.full((batch,), 500), torch.randn(batch, 77, 768))
