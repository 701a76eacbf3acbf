#!/usr/bin/env python3
"""Writes test/fixtures/clip-classification/fusion_bench_tall.json: for every task of fusion_bench's
TALL benchmarks (the defaults lists of its dataset/image_classification/test/TALL*.yaml), the hub
dataset call (target, dataset name and split) of its train and test configs, and the number of class names and templates that
fusion_bench's `CLIPTemplateFactory.get_classnames_and_templates(task)` returns, with a SHA-256 of both
lists (each template applied to the string "{c}", our placeholder).

Reads a fusion_bench checkout only; imports nothing of fusion_bench but the per-task data modules
(plain Python lists), so neither torch nor datasets is needed.

    python3 scripts/make-clip-task-fixture.py /path/to/fusion_bench test/fixtures/clip-classification
"""
import ast
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys


def defaults_list(path):
    """The `- name` entries of a group config whose only content is a defaults list."""
    names = []
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^\s*-\s*([^\s#]+)\s*(#.*)?$", line)
        if m:
            names.append(m.group(1))
    return names


def dataset_entry(path):
    """The call of one dataset config `<task>: {_target_, path | _args_, split}` (plain scalars, as these files are)."""
    out = {}
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^  (\w+):\s*(\S*)\s*$", line)
        if m:
            out[m.group(1)] = m.group(2) if m.group(2) != "" else []
            continue
        m = re.match(r"^    -\s*(\S+)\s*$", line)
        if m:
            out["_args_"].append(m.group(1))
    return out


def dataset_mapping(pkg_dir):
    """CLIPTemplateFactory._dataset_mapping, read from __init__.py without importing it."""
    tree = ast.parse(open(os.path.join(pkg_dir, "__init__.py"), encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "CLIPTemplateFactory":
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and stmt.targets[0].id == "_dataset_mapping":
                    return ast.literal_eval(stmt.value)
    raise SystemExit("CLIPTemplateFactory._dataset_mapping not found")


def classnames_and_templates(pkg_dir, info):
    if isinstance(info, str):
        info = {"module": info, "classnames": "classnames", "templates": "templates"}
    mod_file = os.path.join(pkg_dir, info["module"].lstrip(".") + ".py")
    spec = importlib.util.spec_from_file_location("fb_task_" + info["module"].lstrip("."), mod_file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    classnames = list(getattr(mod, info["classnames"]))
    templates = [t("{c}") for t in getattr(mod, info["templates"])]
    return classnames, templates


def main():
    fb_root, out_dir = sys.argv[1], sys.argv[2]
    pkg_dir = os.path.join(fb_root, "fusion_bench", "tasks", "clip_classification")
    ds_dir = os.path.join(fb_root, "fusion_bench_config", "dataset", "image_classification")
    mapping = dataset_mapping(pkg_dir)
    benchmarks = {}
    for f in sorted(os.listdir(os.path.join(ds_dir, "test"))):
        m = re.match(r"^(TALL\d+)\.yaml$", f)
        if m:
            benchmarks[m.group(1)] = defaults_list(os.path.join(ds_dir, "test", f))
    tasks = {}
    for name in sorted({t for ts in benchmarks.values() for t in ts}):
        classnames, templates = classnames_and_templates(pkg_dir, mapping[name])
        # The same bytes as JSON.stringify({classnames, templates}) in the test.
        blob = json.dumps({"classnames": classnames, "templates": templates}, ensure_ascii=False, separators=(",", ":"))
        tasks[name] = {
            "train": dataset_entry(os.path.join(ds_dir, "train", name + ".yaml")),
            "test": dataset_entry(os.path.join(ds_dir, "test", name + ".yaml")),
            "num_classnames": len(classnames),
            "num_templates": len(templates),
            "sha256": hashlib.sha256(blob.encode("utf-8")).hexdigest(),
        }
    try:
        commit = subprocess.run(["git", "-C", fb_root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    os.makedirs(out_dir, exist_ok=True)
    out = {
        "source": "tanganke/fusion_bench " + (commit or "(unknown commit)") + ", written by scripts/make-clip-task-fixture.py",
        "benchmarks": benchmarks,
        "tasks": tasks,
    }
    with open(os.path.join(out_dir, "fusion_bench_tall.json"), "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    main()
