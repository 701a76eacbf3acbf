"""
fusion_bench's RegMeanAlgorithmForCLIP, its unmodified files (regmean.py, clip_regmean.py, utils.py),
run on the inputs our `regmean/clip_regmean` used, and compared with our result. Run by
bench/lib/regmean-reference.ts (for bench/compare's `regmean` part and its test); not a test itself.

  regmean_reference.py --fb-src DIR --work DIR

reads DIR/manifest.json, written by our side:
  models:  {"_pretrained_": dir, task: dir, ...}          CLIPVisionModel checkpoints
  pixels:  {task: {"file": raw float32, "shape": [n, c, h, w]}}   every train image of the task,
           preprocessed by our pipeline (so preprocessing is not part of this comparison)
  method:  the method config (num_regmean_examples, reduce_non_diagonal_ratio, ...)
  ours:    our merged model dir; our_grams: {task: safetensors of each linear module's mean Gram}

and prints one JSON object: per merged tensor and per Gram matrix, max |ours − fusion_bench| (absolute
and relative to max |fusion_bench|), plus two float64 re-computations of fusion_bench's
merging_with_regmean_weights (the same function, fed float64 tensors): on fusion_bench's Gram matrices
and on ours. They split the difference into what the Gram matrices contribute and what each side's
solve contributes (fusion_bench's: torch.inverse in float32; ours: a float64 Cholesky).

fusion_bench's data loader shuffles with torch's generator (seeded 0 here); our shuffle cannot match it,
so num_regmean_examples must cover each train set (then both use every image, in different orders and
batches: a rounding-level difference).
"""
import sys
sys.dont_write_bytecode = True  # no __pycache__ in the checkout or in fusion_bench's source
import argparse
import json
import os
import re

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_torch  # noqa: E402
import fb_shims  # noqa: E402

# Stand-ins beyond fb_shims' for the packages regmean/clip_regmean.py import: plumbing only. The
# classification mixin's zero-shot head (text tower, processor) feeds only the logits, which RegMean
# discards; the Gram matrices come from hooks on the vision tower's nn.Linear modules alone.
_EXTRA = {
    "tqdm/autonotebook.py": "from . import tqdm\n",
    "fusion_bench/method/regmean/__init__.py": (
        "import os\n"
        "__path__.append(os.path.join(os.environ['FB_SHIM_SRC'], 'fusion_bench', 'method', 'regmean'))\n"
    ),
    "fusion_bench/dataset/__init__.py": (
        "import os\n"
        "__path__.append(os.path.join(os.environ['FB_SHIM_SRC'], 'fusion_bench', 'dataset'))\n"
    ),
}
_APPEND = {
    "transformers/__init__.py": "class BaseImageProcessor: pass\nclass ProcessorMixin: pass\n",
    # builtins.type: the name `type` here is fusion_bench.utils.type, the submodule.
    "fusion_bench/utils/__init__.py": "import builtins\nDeprecationWarningMeta = builtins.type\n",
    "fusion_bench/__init__.py": "from .mixins import auto_register_config\n",
    "fusion_bench/mixins/__init__.py": (
        "class _Fabric:\n"
        "    device = 'cpu'\n"
        "    def setup_dataloaders(self, loader):\n"
        "        return loader\n"
        "    def setup(self, module):\n"
        "        return module\n"
        "class CLIPClassificationMixin:\n"
        "    fabric = _Fabric()\n"
        "    clip_processor = None\n"
        "    def setup_zero_shot_classification_head(self):\n"
        "        import torch\n"
        "        class _Heads(dict):\n"
        "            def __missing__(self, task):\n"
        "                return torch.nn.functional.normalize(torch.randn(3, self.dim), dim=-1)\n"
        "        self.zeroshot_weights = _Heads()\n"
        "        self.zeroshot_weights.dim = self.modelpool.hidden_size\n"
        "        self.visual_projection = torch.nn.Identity()\n"
        "        self.logit_scale_exp = 100.0\n"
    ),
}


def install_shims(src):
    for rel, text in _APPEND.items():
        if text not in fb_shims._FILES[rel]:
            fb_shims._FILES[rel] += text
    fb_shims._FILES.update(_EXTRA)
    fb_shims.install(src)


def make_pool(models, pixels):
    from fusion_bench.modelpool import BaseModelPool

    class Pool(BaseModelPool):
        """fusion_bench's CLIPVisionModelPool reduced to what RegMeanAlgorithm.run calls."""

        def __init__(self):
            self.config = None
            self.hidden_size = clip_torch.vision_config(json.load(open(os.path.join(models["_pretrained_"], "config.json"))))["hidden_size"]

        @property
        def model_names(self):
            return [n for n in models if not (n.startswith("_") and n.endswith("_"))]

        def named_models(self):
            for n in self.model_names:
                yield n, self.load_model(n)

        def load_model(self, name):
            model, self.cfg = clip_torch.load_clip_vision(models[name])
            return model.eval()

        def load_train_dataset(self, name):
            # (image, label) tuples, as CLIPDataset takes them; with clip_processor None the image passes through.
            px = pixels[name]
            return [(px[i], 0) for i in range(px.shape[0])]

    return Pool()


def read_pixels(spec):
    n = 1
    for s in spec["shape"]:
        n *= s
    t = torch.from_file(spec["file"], size=n, dtype=torch.float32)
    return t.reshape(spec["shape"])


def diff(a, b):
    """max |a − b|, and that relative to max |b| (b the reference), over one tensor."""
    a, b = a.double(), b.double()
    d = float((a - b).abs().max()) if a.numel() else 0.0
    m = float(b.abs().max()) if b.numel() else 0.0
    return d, (d / m if m > 0 else d)


def summarize(pairs):
    """{tensors, max_abs, max_rel, worst} over (name, ours, reference) pairs."""
    out = {"tensors": 0, "max_abs_diff": 0.0, "max_rel_diff": 0.0, "worst": None}
    for name, a, b in pairs:
        d, r = diff(a, b)
        out["tensors"] += 1
        out["max_abs_diff"] = max(out["max_abs_diff"], d)
        if r >= out["max_rel_diff"]:
            out["max_rel_diff"], out["worst"] = r, name
    out["max_abs_diff"] = float(f"{out['max_abs_diff']:.3g}")
    out["max_rel_diff"] = float(f"{out['max_rel_diff']:.3g}")
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--fb-src", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    man = json.load(open(os.path.join(a.work, "manifest.json")))
    install_shims(a.fb_src)
    from fusion_bench.method.regmean.clip_regmean import RegMeanAlgorithmForCLIP
    from fusion_bench.method.regmean.regmean import merging_with_regmean_weights

    grams = {}

    class Recording(RegMeanAlgorithmForCLIP):
        """fusion_bench's class; only records each model's Gram matrices as its run() collects them."""

        def get_regmean_weights(self, model_name, *args, **kwargs):
            w = super().get_regmean_weights(model_name, *args, **kwargs)
            grams[model_name] = w
            return w

    pixels = {t: read_pixels(s) for t, s in man["pixels"].items()}
    pool = make_pool(man["models"], pixels)
    m = man["method"]
    for t, px in pixels.items():
        if m["num_regmean_examples"] < px.shape[0]:
            raise SystemExit(f"num_regmean_examples {m['num_regmean_examples']} < {px.shape[0]} images of {t}: the two sides' shuffles would pick different images")
    torch.manual_seed(0)
    method = Recording(num_regmean_examples=m["num_regmean_examples"], exclude_param_names_regex=list(m["exclude_param_names_regex"]),
                       reduce_non_diagonal_ratio=m["reduce_non_diagonal_ratio"], weight_transpose=m["weight_transpose"],
                       dataloader_kwargs=dict(m["dataloader_kwargs"]))
    real_stdout, sys.stdout = sys.stdout, sys.stderr  # fusion_bench prints warnings; stdout is for the JSON
    try:
        merged = method.run(pool).state_dict()
    finally:
        sys.stdout = real_stdout
    if man.get("fb_out"):
        clip_torch.write_safetensors(os.path.join(man["fb_out"]), merged)

    ours = clip_torch.read_safetensors(clip_torch.checkpoint_file(man["ours"]))
    ours_grams = {t: clip_torch.read_safetensors(f) for t, f in man["our_grams"].items()}
    tasks = pool.model_names

    # fusion_bench's merge function again, in float64: on its Gram matrices, and on ours.
    from fusion_bench.method.regmean.utils import get_param_names_to_merge
    ft = {t: pool.load_model(t).state_dict() for t in tasks}
    names = get_param_names_to_merge(list(ft[tasks[0]].keys()), m["exclude_param_names_regex"])
    params64 = {n: [ft[t][n].double() for t in tasks] for n in names}

    def merge64(gs):
        # reduce_non_diagonal_elements builds its factors in float32 (torch.ones): as torch rounds them.
        return merging_with_regmean_weights(params64, [{k: v.double() for k, v in gs[t].items()} for t in tasks],
                                            reduce_non_diagonal_ratio=m["reduce_non_diagonal_ratio"], weight_transpose=m["weight_transpose"])

    fb64 = merge64(grams)
    ours64 = merge64(ours_grams)
    linear = [k for k in merged if k.endswith(".weight") and k[: -len(".weight")] in grams[tasks[0]]]
    other = [k for k in merged if k not in linear]
    n_tokens_rows = {t: int(pixels[t].shape[0]) for t in tasks}

    def pick(keys, x, y):
        return [(k, x[k], y[k]) for k in keys if k in x and k in y]

    # Float32 noise for a solve is relative error up to about cond(Σ R(Gᵢ))·2⁻²⁴: each linear weight's
    # difference in those units (below 1: within what float32 arithmetic on this conditioning allows).
    from fusion_bench.method.regmean.regmean import reduce_non_diagonal_elements
    cond = {}
    for k in linear:
        mod = k[: -len(".weight")]
        if any(re.match(p, k) for p in m["exclude_param_names_regex"]):
            continue
        total = sum(reduce_non_diagonal_elements(grams[t][mod].double(), m["reduce_non_diagonal_ratio"]) for t in tasks)
        cond[k] = float(torch.linalg.cond(total))
    eps32 = 2.0 ** -24

    def in_cond_units(x, y):
        worst, at = 0.0, None
        for k, c in cond.items():
            u = diff(x[k], y[k])[1] / (c * eps32)
            if u >= worst:
                worst, at = u, k
        return {"max": float(f"{worst:.3g}"), "at": at, "cond_there": float(f"{cond[at]:.3g}") if at else None}

    missing = sorted(set(merged) ^ set(ours))
    report = {
        "models": {t: man["models"][t] for t in man["models"]},
        "images": n_tokens_rows,
        "method": m,
        "keys_differ": missing,
        # the headline: our saved merged weights against fusion_bench's own run
        "merged_linear_ours_vs_fusion_bench": summarize(pick(linear, ours, merged)),
        "merged_other_ours_vs_fusion_bench": summarize(pick(other, ours, merged)),
        # the Gram matrices (mean xᵀx over token rows) each side's linear inputs gave, model by model
        "grams_ours_vs_fusion_bench": {t: summarize(pick(sorted(grams[t]), ours_grams[t], grams[t])) for t in tasks},
        # where the difference comes from
        "fusion_bench_vs_float64_on_its_grams": summarize(pick(linear, merged, fb64)),
        "ours_vs_float64_on_our_grams": summarize(pick(linear, ours, ours64)),
        "float64_on_our_grams_vs_on_fusion_bench_grams": summarize(pick(linear, ours64, fb64)),
        "ours_vs_float64_on_fusion_bench_grams": summarize(pick(linear, ours, fb64)),
        "max_condition_number": float(f"{max(cond.values()):.3g}") if cond else None,
        "ours_vs_fusion_bench_in_cond_eps32": in_cond_units(ours, merged),
        "fusion_bench_vs_float64_in_cond_eps32": in_cond_units(merged, fb64),
        "torch": torch.__version__,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
