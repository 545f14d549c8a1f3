"""Same-machine reference for `unetlens bench --cases vae_decode_64,vae_decode_xl_128`: the SD VAE decoder (diffusers' AutoencoderKL
decoder layout, block_out_channels 128/256/512/512, 2 layers per block, 32 norm groups, one mid-block attention)
written directly in torch, random weights, float32, torch.no_grad, 2 threads, the attention diffusers picks for the
torch at hand (timing.ATTENTION); median of 3 after one warm-up.
Run with Debian's python3-torch (1.13.1 or 2.6.0) and OpenBLAS (see README.md here):
    /usr/bin/python3 torch_vae_decode.py [threads] [case ...]      cases: vae_decode_64 vae_decode_xl_128
"""
import sys
import torch
import torch.nn as nn
from timing import ATTENTION, measure
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)


class Resnet(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(32, cin, eps=1e-6), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = nn.GroupNorm(32, cout, eps=1e-6), nn.Conv2d(cout, cout, 3, padding=1)
        self.short = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.short(x) if self.short is not None else x) + h


class Attn(nn.Module):  # diffusers' AttnProcessor2_0 (SDPA, one head) or AttnProcessor (baddbmm, softmax, bmm)
    def __init__(self, c):
        super().__init__()
        self.norm = nn.GroupNorm(32, c, eps=1e-6)
        self.q, self.k, self.v, self.o = (nn.Linear(c, c) for _ in range(4))

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.norm(x).view(b, c, h * w).transpose(1, 2)
        q, k, v = self.q(t), self.k(t), self.v(t)
        if ATTENTION == "sdpa":
            o = F.scaled_dot_product_attention(q[:, None], k[:, None], v[:, None])[:, 0]
            return self.o(o).transpose(1, 2).reshape(b, c, h, w) + x
        s = torch.baddbmm(torch.empty(b, h * w, h * w), q, k.transpose(1, 2), beta=0, alpha=c ** -0.5)
        return self.o(s.softmax(-1) @ v).transpose(1, 2).reshape(b, c, h, w) + x


class Decoder(nn.Module):
    def __init__(self, ch=(128, 256, 512, 512)):
        super().__init__()
        top = ch[-1]
        self.conv_in = nn.Conv2d(4, top, 3, padding=1)
        self.mid = nn.ModuleList([Resnet(top, top), Attn(top), Resnet(top, top)])
        self.ups = nn.ModuleList()
        prev = top
        for i, c in enumerate(reversed(ch)):
            blocks = nn.ModuleList([Resnet(prev if j == 0 else c, c) for j in range(3)])
            up = nn.Conv2d(c, c, 3, padding=1) if i < len(ch) - 1 else None
            self.ups.append(nn.ModuleList([blocks, up] if up is not None else [blocks]))
            prev = c
        self.norm_out, self.conv_out = nn.GroupNorm(32, ch[0], eps=1e-6), nn.Conv2d(ch[0], 3, 3, padding=1)

    def forward(self, z):
        h = self.conv_in(z)
        for m in self.mid:
            h = m(h)
        for blk in self.ups:
            for r in blk[0]:
                h = r(h)
            if len(blk) > 1:
                h = blk[1](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


if __name__ == "__main__":  # torch_sdhelper.py imports the modules
    model = Decoder().eval()
    # the case names the latent size: vae_decode_64 (SD 1.5, 512²) or vae_decode_xl_128 (SDXL's VAE, the same
    # decoder with other weights, 1024²)
    for name in sys.argv[2:] or ["vae_decode_64"]:
        size = int(name.rsplit("_", 1)[1])
        z = torch.randn(1, 4, size, size)
        measure(name, model, z, count_params=False)  # the decoder alone; the bench counts the whole VAE
