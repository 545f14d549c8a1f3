"""What the three reference scripts share: `unetlens bench`'s measurement (one warm-up, median of 3 timed forwards
under torch.no_grad, peak RSS = ru_maxrss of this process) and its JSON fields, one line per case on stdout."""
import json, resource, statistics, time
import torch


def measure(case, model, *inputs):
    with torch.no_grad():
        model(*inputs)
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = model(*inputs)
            runs.append(time.perf_counter() - t0)
    print(json.dumps({"case": case, "median_s": statistics.median(runs), "runs_s": runs,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "out_shape": list(out.shape), "params": sum(p.numel() for p in model.parameters()),
                      "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
