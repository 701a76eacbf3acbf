"""
The PyTorch side of bench/compare (run by dist/bench/compare.js; not a test). One subcommand per
measurement; each prints one JSON object on stdout. Threads: torch.set_num_threads(--threads).

  check  --fixtures DIR [--fb-src DIR]   the torch CLIP tower against transformers' goldens; with --fb-src,
                                         fusion_bench's task arithmetic against the fixtures' merged golden
  merge  --fb-src DIR --method ta|ties|tsv|iso_cts --models PRE FT... --out DIR
                                         fusion_bench's method class on our stand-in pool: load (as
                                         CLIPVisionModel.from_pretrained), merge, save (as save_pretrained)
  forward --batches 16,64 --seconds S    images/s of the tower under torch.no_grad()
  train  --batch 16 --steps N            forward + backward (zero-shot head, cross-entropy), images/s
"""
import sys
sys.dont_write_bytecode = True  # no __pycache__ in the checkout or in fusion_bench's source
import argparse
import json
import os
import resource
import time

T_START = time.perf_counter()
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_torch  # noqa: E402


def max_rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def emit(obj):
    obj.update(torch=torch.__version__, threads=torch.get_num_threads(), max_rss_mb=max_rss_mb(),
               ld_preload=os.environ.get("LD_PRELOAD", ""))
    print(json.dumps(obj))


def make_pool(model_dirs):
    """fusion_bench's CLIPVisionModelPool reduced to what the methods call: names, load_model, load_pretrained_model."""
    from fusion_bench.modelpool import BaseModelPool

    class Pool(BaseModelPool):
        def __init__(self, models):
            self._models = models
            self.config = None

        @property
        def model_names(self):
            return [n for n in self._models if n != "_pretrained_"]

        def load_model(self, name):
            model, cfg = clip_torch.load_clip_vision(self._models[name])
            self.cfg = cfg
            return model

        def load_pretrained_model(self):
            return self.load_model("_pretrained_")

    models = {"_pretrained_": model_dirs[0]}
    for i, d in enumerate(model_dirs[1:]):
        models[f"task{i}"] = d
    return Pool(models)


def make_method(name, scaling):
    if name == "ta":
        from fusion_bench.method.task_arithmetic import TaskArithmeticAlgorithm
        return TaskArithmeticAlgorithm(scaling_factor=scaling)
    if name == "ties":
        from fusion_bench.method.ties_merging import TiesMergingAlgorithm
        return TiesMergingAlgorithm(scaling_factor=scaling, threshold=20, remove_keys=[], merge_func="sum")
    if name == "tsv":
        from fusion_bench.method.task_singular_vector import TaskSingularVectorMerging
        return TaskSingularVectorMerging(alpha=scaling, exclude_keys=[], return_single_task_models=False)
    if name == "iso_cts":
        from fusion_bench.method.isotropic_merging import IsotropicMergingInCommonAndTaskSubspace
        return IsotropicMergingInCommonAndTaskSubspace(scaling_factor=scaling, common_space_fraction=0.8, exclude_keys=[])
    raise SystemExit(f"unknown method {name}")


def cmd_merge(a):
    if a.max_gb > 0:
        # Over this much address space the merge fails with MemoryError here, instead of the kernel's
        # OOM killer picking some other process on a shared machine (fusion_bench's TIES holds all task
        # vectors flat, several times over).
        lim = int(a.max_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    import fb_shims
    fb_shims.install(a.fb_src)
    t0 = time.perf_counter()
    pool = make_pool(a.models)
    method = make_method(a.method, a.scaling)
    # fusion_bench's methods print progress (TSV: "Computing SVD..."); keep stdout for the JSON.
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        merged = method.run(pool)
    finally:
        sys.stdout = real_stdout
    t1 = time.perf_counter()
    clip_torch.save_clip_vision(merged, a.out, pool.cfg)
    t2 = time.perf_counter()
    emit({"method": a.method, "in_process_seconds": round(t2 - T_START, 3), "run_seconds": round(t1 - t0, 3),
          "save_seconds": round(t2 - t1, 3)})


def random_pixels(n, size):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 3, size, size, generator=g) * 4 - 2


def build_tower(seed=1234):
    torch.manual_seed(seed)
    model = clip_torch.CLIPVisionModel(clip_torch.vision_config({}))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layer_norm1.weight") or name.endswith("layer_norm2.weight") or "layrnorm.weight" in name or "layernorm.weight" in name:
                p.fill_(1.0)
            else:
                p.normal_(0.0, 0.02)
    return model.eval()


def cmd_forward(a):
    model = build_tower()
    proj = torch.randn(512, 768) * 0.02
    batches = [int(b) for b in a.batches.split(",")]
    px_all = random_pixels(max(batches), 224)
    results = []
    slow = None
    with torch.no_grad():
        for b in batches:
            if slow is not None:
                results.append({"batch": b, "skipped": slow})
                continue
            px = px_all[:b]
            t = time.perf_counter()
            model(px)  # warm-up
            first = time.perf_counter() - t
            if first > a.budget:
                # On the reference BLAS one batch takes minutes: time that one run, skip the larger batches.
                results.append({"batch": b, "runs": 1, "median_run_ms": round(first * 1000, 1),
                                "images_per_s": round(b / first, 2), "note": "one run (its first) only: it took over --budget"})
                slow = f"batch {b} took {first:.0f} s, over --budget {a.budget:.0f} s"
                continue
            times = []
            start = time.perf_counter()
            while True:
                t = time.perf_counter()
                _, pooled = model(px)
                pooled @ proj.T
                times.append(time.perf_counter() - t)
                if time.perf_counter() - start >= a.seconds:
                    break
            med = sorted(times)[len(times) // 2]
            results.append({"batch": b, "runs": len(times), "median_run_ms": round(med * 1000, 1),
                            "images_per_s": round(b / med, 2)})
    emit({"results": results})


def cmd_train(a):
    model = build_tower().train()
    proj = torch.randn(512, 768) * 0.02
    classes = 10
    text = torch.nn.functional.normalize(torch.randn(classes, 512), dim=-1)
    px = random_pixels(a.batch, 224)
    labels = torch.arange(a.batch) % classes
    params = [p for p in model.parameters()]

    def step():
        for p in params:
            p.grad = None
        _, pooled = model(px)
        emb = torch.nn.functional.normalize(pooled @ proj.T, dim=-1)
        loss = torch.nn.functional.cross_entropy(100.0 * emb @ text.T, labels)
        loss.backward()
        return float(loss)

    step()  # warm-up
    times = []
    for _ in range(a.steps):
        t = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t)
    mean = sum(times) / len(times)
    emit({"batch": a.batch, "steps": a.steps, "parameters": sum(p.numel() for p in params),
          "step_ms": [round(x * 1000) for x in times], "forward_backward_images_per_s": round(a.batch / mean, 2),
          "loss": loss})


def cmd_check(a):
    out = {"tower_max_rel_err": clip_torch.check_goldens(a.fixtures)}
    if a.fb_src:
        import fb_shims
        fb_shims.install(a.fb_src)
        m = os.path.join(a.fixtures, "models")
        pool = make_pool([os.path.join(m, "tiny-clip"), os.path.join(m, "tiny-clip-ft-a"), os.path.join(m, "tiny-clip-ft-b")])
        merged = make_method("ta", 0.5).run(pool).state_dict()
        want = clip_torch.read_safetensors(os.path.join(a.fixtures, "golden", "tiny-clip-merged-ta0.5", "model.safetensors"))
        out["fb_task_arithmetic_max_abs_err"] = max(float((merged[k] - want[k]).abs().max()) for k in want if k in merged)
    emit(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--fixtures", required=True)
    c.add_argument("--fb-src")
    m = sub.add_parser("merge")
    m.add_argument("--fb-src", required=True)
    m.add_argument("--method", required=True)
    m.add_argument("--scaling", type=float, default=0.3)
    m.add_argument("--models", nargs="+", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--max-gb", type=float, default=0, help="address-space limit (GiB); 0: none")
    f = sub.add_parser("forward")
    f.add_argument("--batches", default="16,64")
    f.add_argument("--seconds", type=float, default=3.0)
    f.add_argument("--budget", type=float, default=60.0, help="a first run longer than this is the only one")
    t = sub.add_parser("train")
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--steps", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    {"check": cmd_check, "merge": cmd_merge, "forward": cmd_forward, "train": cmd_train}[a.cmd](a)


if __name__ == "__main__":
    main()
