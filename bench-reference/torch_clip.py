"""Same-machine reference for `unetlens bench --cases clip_l_77`: transformers' CLIPTextModel for SD 1.x (hidden 768,
12 layers, 12 heads, intermediate 3072, quick_gelu, vocabulary 49408, 77 positions, causal mask) written directly in
torch, random weights, float32, torch.no_grad, ids (1, 77), the attention transformers picks for the torch at hand
(timing.ATTENTION); median of 3 after one warm-up; peak RSS = ru_maxrss of this process.
Run with Debian's python3-torch (1.13.1 or 2.6.0) and OpenBLAS (see README.md here):  /usr/bin/python3 torch_clip.py [threads]
"""
import sys
import torch
import torch.nn as nn
from timing import ATTENTION, measure
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)


class Layer(nn.Module):
    def __init__(self, d=768, heads=12, inner=3072):
        super().__init__()
        self.heads = heads
        self.layer_norm1, self.layer_norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(d, inner), nn.Linear(inner, d)

    def forward(self, x, mask):
        b, n, d = x.shape
        h = self.layer_norm1(x)
        split = lambda t: t.view(b, n, self.heads, d // self.heads).transpose(1, 2)
        if ATTENTION == "sdpa":  # transformers' CLIPSdpaAttention: the causal mask as an additive mask
            o = F.scaled_dot_product_attention(split(self.q_proj(h)), split(self.k_proj(h)), split(self.v_proj(h)), attn_mask=mask)
        else:
            q, k, v = split(self.q_proj(h) * (d // self.heads) ** -0.5), split(self.k_proj(h)), split(self.v_proj(h))
            o = torch.matmul((torch.matmul(q, k.transpose(-1, -2)) + mask).softmax(-1), v)
        x = x + self.out_proj(o.transpose(1, 2).reshape(b, n, d))
        h = self.fc1(self.layer_norm2(x))
        return x + self.fc2(h * torch.sigmoid(1.702 * h))


class TextModel(nn.Module):
    def __init__(self, vocab=49408, positions=77, d=768, layers=12):
        super().__init__()
        self.token_embedding, self.position_embedding = nn.Embedding(vocab, d), nn.Embedding(positions, d)
        self.layers = nn.ModuleList([Layer(d) for _ in range(layers)])
        self.final_layer_norm = nn.LayerNorm(d)

    def forward(self, ids):
        n = ids.shape[1]
        x = self.token_embedding(ids) + self.position_embedding(torch.arange(n)[None])
        mask = torch.full((n, n), torch.finfo(torch.float32).min).triu(1)[None, None]
        for layer in self.layers:
            x = layer(x, mask)
        return self.final_layer_norm(x)


if __name__ == "__main__":  # torch_sdhelper.py imports the modules
    model = TextModel().eval()
    ids = torch.randint(0, 49408, (1, 77))
    measure("clip_l_77", model, ids)
