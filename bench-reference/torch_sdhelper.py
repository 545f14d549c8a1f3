"""Same-machine reference for issue 24's extraction targets: the work of `unetlens bench --cases extract_512_up1_t50`
and `paper_512_t50` done the sdhelper way (the researchers' notebooks and the paper's script): every representation
is one `img2repr(image, positions, t)` call, which preprocesses the image, VAE-encodes it (a posterior sample),
encodes the prompt with CLIP, noises the latent at t (DDPM's scaled-linear schedule) and runs one whole U-Net forward
at batch 1 with a forward hook per position that keeps the module's output (`output.detach().cpu()`, no copy on CPU).
No early exit, no batching of draws.

The modules are torch_unet.py's SD 1.5 U-Net, torch_clip.py's CLIP ViT-L text model and the SD VAE encoder below
(diffusers' AutoencoderKL encoder layout), random weights, float32, torch.no_grad, the attention the libraries pick
for the torch at hand (timing.ATTENTION).

    python3 torch_sdhelper.py [threads] [case ...]        cases: extract_512_up1_t50 paper_512_t50

- extract_512_up1_t50: img2repr of one 512² image at up_blocks[1] at t = 50, DRAWS calls (default 8; the bench's
  100 draws at 13 s a call would take 20 minutes, and every call is the same work) after one warm-up call;
  samples_per_s = draws / seconds.
- paper_512_t50: for each of IMAGES 512² images (default 2, as the bench case), img2repr at the paper's 46 modules,
  then, per token size (8, 16, 32, 64 px), img2repr of the image cropped by one token on every side at the modules of
  that size (the image-cropped group variant; sdhelper has no early exit, so each is a whole forward); the norm maps
  and the corner/border/other similarity sums of every map; images_per_min = images / minutes. The probe's training
  is not included (unetlens' paper figure includes it, which favours torch).
One JSON line per case on stdout, with peak_rss_mb = ru_maxrss of this process.
"""
import json, math, os, resource, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F
from timing import ATTENTION
from torch_unet import UNet
from torch_clip import TextModel
from torch_vae_decode import Resnet as VaeResnet, Attn as VaeAttn

DRAWS = int(os.environ.get("DRAWS", "8"))
IMAGES = int(os.environ.get("IMAGES", "2"))


class Downsample(nn.Module):  # diffusers' Downsample2D in the VAE: pad (0, 1, 0, 1), conv 3×3 stride 2, padding 0
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Encoder(nn.Module):  # AutoencoderKL encoder + quant_conv: [B, 3, H, W] → moments [B, 8, H/8, W/8]
    def __init__(self, ch=(128, 256, 512, 512)):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)
        layers, prev = [], ch[0]
        for i, c in enumerate(ch):
            layers += [VaeResnet(prev, c), VaeResnet(c, c)] + ([Downsample(c)] if i < len(ch) - 1 else [])
            prev = c
        top = ch[-1]
        layers += [VaeResnet(top, top), VaeAttn(top), VaeResnet(top, top)]
        self.layers = nn.Sequential(*layers)
        self.norm_out, self.conv_out = nn.GroupNorm(32, top, eps=1e-6), nn.Conv2d(top, 8, 3, padding=1)
        self.quant_conv = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        return self.quant_conv(self.conv_out(F.silu(self.norm_out(self.layers(self.conv_in(x))))))


def positions(unet):
    """The paper's 46 modules (diffusers' names) → torch_unet.py's modules, in forward order."""
    out = {"conv_in": unet.conv_in}
    add_blocks(out, "down_blocks", unet.down, "ds", "downsamplers")
    out |= {"mid_block.resnets.0": unet.mid1, "mid_block.attentions.0": unet.mid_tr, "mid_block.resnets.1": unet.mid2}
    add_blocks(out, "up_blocks", unet.up, "us", "upsamplers")
    out["conv_out"] = unet.conv_out
    return out


def add_blocks(out, section, blocks, sampler, sampler_name):
    """Each block's resnets and attentions in forward order, then its sampler."""
    for i, blk in enumerate(blocks):
        for j, r in enumerate(blk["res"]):
            out[f"{section}.{i}.resnets.{j}"] = r
            if "tr" in blk:
                out[f"{section}.{i}.attentions.{j}"] = blk["tr"][j]
        if sampler in blk:
            out[f"{section}.{i}.{sampler_name}.0"] = blk[sampler]


class SD:
    def __init__(self):
        self.unet, self.text, self.vae = UNet().eval(), TextModel().eval(), Encoder().eval()
        self.modules = positions(self.unet)
        betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
        self.alphas_cumprod = torch.cumprod(1 - betas, 0).float()

    def img2repr(self, img, names, t, gen):
        """sdhelper's img2repr: [3, H, W] in [0, 1] → {name: output}."""
        reprs = {}
        hooks = [self.modules[n].register_forward_hook(lambda m, i, o, n=n: reprs.__setitem__(n, o.detach().cpu()))
                 for n in names]
        try:
            x = img[None] * 2 - 1
            mean, logvar = self.vae(x).chunk(2, dim=1)
            std = torch.exp(0.5 * logvar.clamp(-30.0, 20.0))
            latent = (mean + std * torch.randn(mean.shape, generator=gen)) * 0.18215
            ctx = self.text(torch.tensor([[49406] + [49407] * 76]))          # the empty prompt
            a = self.alphas_cumprod[t]
            noisy = a.sqrt() * latent + (1 - a).sqrt() * torch.randn(latent.shape, generator=gen)
            self.unet(noisy, torch.tensor([t]), ctx)
        finally:
            for h in hooks:
                h.remove()
        return reprs


def group_sums(x):
    """Corner/border/other similarity sums of one map [1, C, H, W], as run_token_group_similarities computes them."""
    u = F.normalize(x[0].flatten(1).T, dim=1)          # [P, C]
    sim = u @ u.T                                      # [P, P]
    return sim.sum()


def image(seed, size=512):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(3, size, size, generator=g)


def line(case, **kv):
    kv |= {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch": torch.__version__,
           "attention": ATTENTION, "threads": torch.get_num_threads(), "way": "sdhelper img2repr, one whole forward per call"}
    print(json.dumps({"case": case} | kv), flush=True)


def extract_case(sd):
    img, gen = image(1), torch.Generator().manual_seed(42)
    with torch.no_grad():
        sd.img2repr(img, ["up_blocks.1.upsamplers.0"], 50, gen)                      # warm-up
        t0 = time.perf_counter()
        for _ in range(DRAWS):
            r = sd.img2repr(img, ["up_blocks.1.upsamplers.0"], 50, gen)["up_blocks.1.upsamplers.0"]
        s = time.perf_counter() - t0
    line("extract_512_up1_t50", samples=DRAWS, total_s=s, samples_per_s=DRAWS / s, median_s=s / DRAWS,
         median_is="seconds per draw (one img2repr call)", out_shape=list(r.shape))


def paper_case(sd):
    names = list(sd.modules)
    gen = torch.Generator().manual_seed(42)
    with torch.no_grad():
        sd.img2repr(image(100), names, 50, gen)                                      # warm-up
        t0 = time.perf_counter()
        for i in range(IMAGES):
            img = image(i)
            reprs = sd.img2repr(img, names, 50, gen)
            by_token = {}
            for n, r in reprs.items():
                by_token.setdefault(512 // r.shape[-1], []).append(n)
                r[0].norm(dim=0)                                                      # the norm map
                group_sums(r)
            for tok, ns in by_token.items():
                if 512 - 2 * tok >= 8:
                    c = img[:, tok:512 - tok, tok:512 - tok]
                    c = c[:, :c.shape[1] // 8 * 8, :c.shape[2] // 8 * 8]
                    for r in sd.img2repr(c, ns, 50, gen).values():
                        group_sums(r)
        s = time.perf_counter() - t0
    line("paper_512_t50", images=IMAGES, modules=len(names), total_s=s, images_per_min=60 * IMAGES / s,
         median_s=s, median_is=f"seconds for {IMAGES} images")


if __name__ == "__main__":
    torch.manual_seed(0)
    sd = SD()
    cases = {"extract_512_up1_t50": extract_case, "paper_512_t50": paper_case}
    for name in sys.argv[2:] or list(cases):
        cases[name](sd)
