"""
transformers' CLIPVisionModel (4.45, attn_implementation="eager") written out in plain torch, with the
same parameter names, so that a `CLIPVisionModel` safetensors checkpoint loads into it unchanged and
`state_dict()` has transformers' keys in transformers' order. transformers cannot be installed here; this
is the reference tower for bench/compare. `check_goldens` verifies it against the fixtures' goldens
before anything is timed.

Also a minimal safetensors reader/writer (the `safetensors` package is not installed either): the file is
an 8-byte little-endian header length, a JSON header of {name: {dtype, shape, data_offsets}}, the data.
"""
import json
import math
import os
import struct

import torch
from torch import nn

# --- the tower -----------------------------------------------------------------------------------------


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, p, img = c["hidden_size"], c["patch_size"], c["image_size"]
        self.class_embedding = nn.Parameter(torch.empty(h))
        self.patch_embedding = nn.Conv2d(c.get("num_channels", 3), h, kernel_size=p, stride=p, bias=False)
        self.num_positions = (img // p) ** 2 + 1
        self.position_embedding = nn.Embedding(self.num_positions, h)
        self.register_buffer("position_ids", torch.arange(self.num_positions).expand((1, -1)), persistent=False)

    def forward(self, pixel_values):
        b = pixel_values.shape[0]
        patches = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(b, 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding(self.position_ids)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_dim = c["hidden_size"]
        self.num_heads = c["num_attention_heads"]
        self.head_dim = self.embed_dim // self.num_heads
        self.scale = self.head_dim ** -0.5
        for n in ("k_proj", "v_proj", "q_proj", "out_proj"):
            setattr(self, n, nn.Linear(self.embed_dim, self.embed_dim))

    def _shape(self, t, seq, b):
        return t.view(b, seq, self.num_heads, self.head_dim).transpose(1, 2).contiguous()

    def forward(self, x):
        # transformers' CLIPAttention.forward, eager path, no masks, dropout 0.
        b, seq, d = x.size()
        q = self.q_proj(x) * self.scale
        k = self._shape(self.k_proj(x), -1, b)
        v = self._shape(self.v_proj(x), -1, b)
        shape = (b * self.num_heads, -1, self.head_dim)
        q = self._shape(q, seq, b).view(*shape)
        k = k.view(*shape)
        v = v.view(*shape)
        w = torch.bmm(q, k.transpose(1, 2))
        w = nn.functional.softmax(w, dim=-1)
        out = torch.bmm(w, v)
        out = out.view(b, self.num_heads, seq, self.head_dim).transpose(1, 2).reshape(b, seq, d)
        return self.out_proj(out)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.activation_fn = QuickGELU()
        self.fc1 = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.fc2 = nn.Linear(c["intermediate_size"], c["hidden_size"])

    def forward(self, x):
        return self.fc2(self.activation_fn(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        eps = c.get("layer_norm_eps", 1e-5)
        self.self_attn = Attention(c)
        self.layer_norm1 = nn.LayerNorm(c["hidden_size"], eps=eps)
        self.mlp = MLP(c)
        self.layer_norm2 = nn.LayerNorm(c["hidden_size"], eps=eps)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        eps = c.get("layer_norm_eps", 1e-5)
        self.embeddings = Embeddings(c)
        self.pre_layrnorm = nn.LayerNorm(c["hidden_size"], eps=eps)
        self.encoder = Encoder(c)
        self.post_layernorm = nn.LayerNorm(c["hidden_size"], eps=eps)

    def forward(self, pixel_values):
        h = self.encoder(self.pre_layrnorm(self.embeddings(pixel_values)))
        return h, self.post_layernorm(h[:, 0, :])


class CLIPVisionModel(nn.Module):
    """`vision_model.*` keys, as transformers' CLIPVisionModel. forward → (last_hidden_state, pooled)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.vision_model = VisionTransformer(config)

    def forward(self, pixel_values):
        return self.vision_model(pixel_values)


def vision_config(cfg):
    """The vision config of a CLIPVisionModel or CLIPModel config.json, with CLIPVisionConfig's defaults."""
    c = dict(cfg.get("vision_config", cfg))
    defaults = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                    num_channels=3, image_size=224, patch_size=32, layer_norm_eps=1e-5, projection_dim=512)
    for k, v in defaults.items():
        c.setdefault(k, v)
    return c


# --- safetensors without the safetensors package --------------------------------------------------------

_DT = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64, "I64": torch.int64}
_DT_NAME = {v: k for k, v in _DT.items()}


def read_safetensors(path):
    """{name: tensor} read from one file (or the shards of an index.json); the tensors are views of one buffer."""
    if path.endswith(".index.json"):
        with open(path) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        out = {}
        for s in shards:
            out.update(read_safetensors(os.path.join(os.path.dirname(path), s)))
        return out
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        dt = _DT[info["dtype"]]
        size = torch.empty((), dtype=dt).element_size()
        t = torch.frombuffer(data, dtype=dt, count=(b - a) // size, offset=a) if b > a else torch.empty(0, dtype=dt)
        out[name] = t.reshape(info["shape"])
    return out


def write_safetensors(path, state_dict):
    header, offset, tensors = {}, 0, []
    for name, t in state_dict.items():
        t = t.detach().contiguous()
        nbytes = t.numel() * t.element_size()
        header[name] = {"dtype": _DT_NAME[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
        tensors.append(t)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for t in tensors:
            f.write(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes())
    os.replace(tmp, path)


def checkpoint_file(model_dir):
    for name in ("model.safetensors", "model.safetensors.index.json"):
        p = os.path.join(model_dir, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"no model.safetensors in {model_dir}")


def load_clip_vision(model_dir):
    """As `CLIPVisionModel.from_pretrained(model_dir)`: build the module, load the checkpoint's vision weights."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    model = CLIPVisionModel(vision_config(cfg))
    sd = read_safetensors(checkpoint_file(model_dir))
    sd = {k: v for k, v in sd.items() if k.startswith("vision_model.") and not k.endswith("position_ids")}
    model.load_state_dict(sd, strict=True)
    return model, cfg


def save_clip_vision(model, out_dir, cfg):
    """As `save_pretrained`: config.json + model.safetensors."""
    os.makedirs(out_dir, exist_ok=True)
    cfg = dict(cfg)
    cfg["architectures"] = ["CLIPVisionModel"]
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), model.state_dict())


# --- self-check against the fixtures' goldens -----------------------------------------------------------


def check_goldens(fixtures):
    """Max relative errors of this tower against transformers' outputs on fixtures/clip (tiny-clip)."""
    import numpy as np
    g = os.path.join(fixtures, "golden", "tiny-clip")
    model, _ = load_clip_vision(os.path.join(fixtures, "models", "tiny-clip"))
    proj = read_safetensors(checkpoint_file(os.path.join(fixtures, "models", "tiny-clip")))["visual_projection.weight"]
    px = torch.from_numpy(np.load(os.path.join(g, "pixel_values.npy")))
    with torch.no_grad():
        last, pooled = model(px)
        embeds = pooled @ proj.T
    errs = {}
    for name, got in (("vision_last_hidden_state", last), ("vision_pooled", pooled), ("image_embeds_unnorm", embeds)):
        want = torch.from_numpy(np.load(os.path.join(g, name + ".npy")))
        errs[name] = float((got - want).abs().max() / want.abs().max())
    return errs
