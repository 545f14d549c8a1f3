"""What the three reference scripts share: `unetlens bench`'s measurement (one warm-up, median of 3 timed forwards
under torch.no_grad, peak RSS = ru_maxrss of this process) and its JSON fields, one line per case on stdout; and the
attention core as the libraries pick it for the torch at hand (`ATTENTION`)."""
import json, os, resource, statistics, time
import torch
import torch.nn.functional as F

# diffusers (AttnProcessor2_0) and transformers (attn_implementation "sdpa") call torch's fused
# scaled_dot_product_attention wherever torch has it (2.0 on); torch 1.13 has not, and they do the explicit
# baddbmm/softmax/bmm. REF_ATTENTION=explicit forces the explicit core on torch 2.x (to see what SDPA gains).
ATTENTION = os.environ.get("REF_ATTENTION") or ("sdpa" if hasattr(F, "scaled_dot_product_attention") else "explicit")
if ATTENTION not in ("sdpa", "explicit"):
    raise SystemExit(f"REF_ATTENTION must be sdpa or explicit, got {ATTENTION!r}")
if ATTENTION == "sdpa" and not hasattr(F, "scaled_dot_product_attention"):
    raise SystemExit(f"REF_ATTENTION=sdpa: torch {torch.__version__} has no scaled_dot_product_attention (2.0 on)")


def measure(case, model, *inputs, count_params=True):
    """Times model(*inputs) and prints the case's line; count_params=False leaves "params" out (a script that builds
    part of a component: the bench counts the whole component's parameters)."""
    with torch.no_grad():
        model(*inputs)
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = model(*inputs)
            runs.append(time.perf_counter() - t0)
    line = {"case": case, "median_s": statistics.median(runs), "runs_s": runs,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "out_shape": list(out.shape)}
    if count_params:
        line["params"] = sum(p.numel() for p in model.parameters())
    line |= {"torch": torch.__version__, "attention": ATTENTION, "threads": torch.get_num_threads()}
    print(json.dumps(line), flush=True)
