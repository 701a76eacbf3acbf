"""
Import shims that let fusion_bench's own method code run on a bare Debian python3-torch.

fusion_bench's package `__init__` files pull in hydra, omegaconf, lightning and transformers, none of
which can be installed here. `install(src)` writes stand-in `__init__.py` files for those packages (and
for fusion_bench's own heavy package `__init__`s) into a temporary directory and puts it first on
sys.path. Each fusion_bench stand-in extends its package `__path__` with the real source directory, so
every module that does the work — task_arithmetic.py, ties_merging*.py, TSVM*.py, iso*.py,
utils/state_dict_arithmetic.py, utils/parameters.py, utils/timer.py — is fusion_bench's unmodified file.
What is stubbed is plumbing only: the algorithm/pool base classes, the profiler mixin, config
registration, and the device of LightningFabricMixin (CPU).
"""
import os
import sys
import tempfile

_FILES = {
    # Third-party packages the method modules import names from (only as types or for progress bars).
    "transformers/__init__.py": "class PreTrainedModel: pass\n",
    "omegaconf/__init__.py": (
        "class ListConfig(list): pass\n"
        "class DictConfig(dict): pass\n"
        "class OmegaConf: pass\n"
        "class UnsupportedValueType(Exception): pass\n"
    ),
    "tqdm/__init__.py": "def tqdm(it=None, *a, **k):\n    return it\n",
    "tqdm/auto.py": "from . import tqdm\n",
    # fusion_bench's package inits, reduced to the names the method modules import.
    "fusion_bench/__init__.py": (
        "import os\n"
        "__path__.append(os.path.join(os.environ['FB_SHIM_SRC'], 'fusion_bench'))\n"
        "from .utils.type import StateDictType, TorchModelType\n"
        "class LazyStateDict: pass\n"
        "from .modelpool import BaseModelPool\n"
        "from .method import BaseAlgorithm\n"
    ),
    "fusion_bench/utils/__init__.py": (
        "import os\n"
        "__path__.append(os.path.join(os.environ['FB_SHIM_SRC'], 'fusion_bench', 'utils'))\n"
        "from .timer import timeit_context\n"
        "from .parameters import state_dict_to_vector, vector_to_state_dict\n"
    ),
    "fusion_bench/method/__init__.py": (
        "import os\n"
        "__path__.append(os.path.join(os.environ['FB_SHIM_SRC'], 'fusion_bench', 'method'))\n"
        "from .base_algorithm import BaseAlgorithm\n"
    ),
    "fusion_bench/method/base_algorithm.py": (
        "class _Config(dict):\n"
        "    __getattr__ = dict.get\n"
        "class BaseAlgorithm:\n"
        "    def __init__(self, **kwargs):\n"
        "        if not hasattr(self, 'config'):\n"
        "            self.config = _Config(kwargs)\n"
    ),
    "fusion_bench/mixins/__init__.py": (
        "import contextlib, functools, inspect\n"
        "class SimpleProfilerMixin:\n"
        "    @contextlib.contextmanager\n"
        "    def profile(self, name):\n"
        "        yield\n"
        "    def print_profile_summary(self, *a, **k):\n"
        "        pass\n"
        "class _Device:\n"
        "    device = 'cpu'\n"
        "class LightningFabricMixin:\n"
        "    fabric = _Device()\n"
        "def auto_register_config(cls):\n"
        "    # As fusion_bench's: the __init__ arguments (defaults applied) become attributes and self.config.\n"
        "    from fusion_bench.method.base_algorithm import _Config\n"
        "    init = cls.__init__\n"
        "    sig = inspect.signature(init)\n"
        "    @functools.wraps(init)\n"
        "    def wrapped(self, *args, **kwargs):\n"
        "        bound = sig.bind(self, *args, **kwargs)\n"
        "        bound.apply_defaults()\n"
        "        values = {k: v for k, v in bound.arguments.items() if k not in ('self', 'kwargs')}\n"
        "        self.config = _Config(values)\n"
        "        for k, v in values.items():\n"
        "            setattr(self, k, v)\n"
        "        init(self, *args, **kwargs)\n"
        "    cls.__init__ = wrapped\n"
        "    return cls\n"
    ),
    "fusion_bench/modelpool/__init__.py": (
        "class BaseModelPool:\n"
        "    pass\n"
    ),
    "fusion_bench/compat/__init__.py": "",
    "fusion_bench/compat/modelpool/__init__.py": "def to_modelpool(pool):\n    return pool\n",
}


def install(src):
    """Makes `import fusion_bench.method...` load fusion_bench's method files from `src` (a checkout)."""
    if not os.path.isdir(os.path.join(src, "fusion_bench", "method")):
        raise FileNotFoundError(f"{src} is not a fusion_bench checkout (no fusion_bench/method)")
    root = tempfile.mkdtemp(prefix="fb-shims-")
    for rel, text in _FILES.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    os.environ["FB_SHIM_SRC"] = os.path.abspath(src)
    sys.path.insert(0, root)
    return root
