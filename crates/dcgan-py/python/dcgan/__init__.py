"""dcgan: DCGAN (Radford, Metz & Chintala, ICLR 2016) from Python, on the Rust library.

FID and KID with the FID Inception network (``fid``, ``inception_features``), trained
generators and discriminators (``Generator``, ``Discriminator``), and training with exact
resume (``train``): the same code as the ``dcgan`` command line, so every result equals the
CLI's on the same inputs. Computation runs with the GIL released.

Errors: bad input raises ``InputError`` (a ``ValueError``; ``MissingFileError`` is also a
``FileNotFoundError``), wrong argument types ``TypeError``, a failed read or write
``IOFailure`` (an ``OSError``), a failed job ``JobError`` (a ``RuntimeError``), and a bug in
the library ``InternalError`` (a ``RuntimeError``), never an abort of the interpreter.
"""

import functools
import json
import os
from typing import Any, Callable, Dict, Optional

import numpy as np

from . import _dcgan

__version__ = _dcgan.__version__

__all__ = [
    "fid",
    "inception_features",
    "Generator",
    "Discriminator",
    "train",
    "TRAIN_OPTIONS",
    "FID_MODES",
    "DcganError",
    "InputError",
    "MissingFileError",
    "IOFailure",
    "JobError",
    "InternalError",
]

#: ``fid``'s conventions (``dcgan fid --fid-mode``): how images reach Inception's input.
FID_MODES = ("legacy_pytorch", "clean", "legacy_tensorflow", "legacy_dcgan")


class DcganError(Exception):
    """Base of the errors this package raises."""


class InputError(DcganError, ValueError):
    """Bad input: a value out of range, a file that is not what it should be (the CLI's exit 2)."""


class MissingFileError(InputError, FileNotFoundError):
    """A file or folder that is not there."""


class IOFailure(DcganError, OSError):
    """Reading or writing failed (permissions, a full disk)."""


class JobError(DcganError, RuntimeError):
    """A job that failed on good input (training diverged, for instance)."""


class InternalError(DcganError, RuntimeError):
    """A bug in dcgan: a panic inside the library, caught before it reached the interpreter."""


_KINDS = {
    "input": InputError,
    "missing": MissingFileError,
    "io": IOFailure,
    "failed": JobError,
    "panic": InternalError,
}


def _translated(f):
    """Re-raise the extension's errors as this package's exception classes."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except _dcgan.Error as e:
            kind, message = e.args
            if kind == "interrupted":
                raise KeyboardInterrupt(message) from None
            raise _KINDS[kind](message) from None

    return wrapper


def _path(value, name):
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    raise TypeError(f"{name} must be a path (str or os.PathLike), not {type(value).__name__}")


def _int(value, name, minimum=0):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise InputError(f"invalid {name} {value}: must be at least {minimum}")
    return int(value)


def _images(value, name):
    """A uint8 array (N, H, W, C) with C 1 or 3, C-contiguous; paths pass through."""
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a path or a numpy array, not {type(value).__name__}")
    if value.dtype != np.uint8:
        raise TypeError(f"{name} must hold uint8 pixels (0-255), not {value.dtype}")
    if value.ndim == 3:
        value = value[..., None]
    if value.ndim != 4 or value.shape[3] not in (1, 3):
        raise InputError(f"{name} has shape {value.shape}; give (N, H, W, 3) RGB or (N, H, W, 1) grey")
    return np.ascontiguousarray(value)


def _floats(value, name, ndim):
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, not {type(value).__name__}")
    if value.dtype.kind not in "fiu" or value.dtype == np.bool_:
        raise TypeError(f"{name} must hold numbers, not {value.dtype}")
    if value.ndim != ndim:
        raise InputError(f"{name} has {value.ndim} dimensions, not {ndim}")
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        i = int(np.flatnonzero(~np.isfinite(value.ravel()))[0])
        raise InputError(f"{name}: value {value.ravel()[i]} at flat index {i} is not finite")
    return np.ascontiguousarray(value, dtype=np.float32)


def _mode(mode):
    if not isinstance(mode, str):
        raise TypeError(f"mode must be a str, not {type(mode).__name__}")
    if mode not in FID_MODES:
        raise InputError(f"invalid FID mode {mode}: the modes are {', '.join(FID_MODES)}")
    return mode


@_translated
def fid(
    a,
    b,
    n: int = 10_000,
    mode: str = "legacy_pytorch",
    metrics=("fid", "kid"),
    k: int = 3,
    seed: int = 0,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    batch_size: int = 50,
    image_size: Optional[int] = None,
    weights=None,
    stats_cache: bool = True,
    device: str = "flex",
) -> Dict[str, Any]:
    """FID (and KID, PRDC) of two image sets, as ``dcgan fid A B --json`` reports it.

    ``a`` and ``b`` are image folders, data sets (``cifar10`` folders, IDX, LMDB…), ``.npz``
    statistics, or uint8 arrays (N, H, W, C). When ``a`` is a checkpoint or run directory
    (``*.safetensors``, or a folder holding ``config.json``), it is the generator side:
    ``n`` images of it against ``b`` (``dcgan fid --checkpoint a --data b``). ``metrics``
    adds ``"kid"`` and ``"prdc"`` (precision, recall, density, coverage with ``k``
    neighbours) to FID. Returns the report as a dict with the CLI's keys.
    """
    n = _int(n, "n", 2)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = [m for m in metrics if m not in ("fid", "kid", "prdc")]
    if unknown:
        raise InputError(f"invalid metric {unknown[0]}: the metrics are fid, kid, prdc")
    subsets = _int(kid_subsets, "kid_subsets") if "kid" in metrics else 0
    prdc_k = _int(k, "k", 1) if "prdc" in metrics else None
    common = dict(
        n=n,
        mode=_mode(mode),
        kid_subsets=subsets,
        kid_subset_size=_int(kid_subset_size, "kid_subset_size", 2),
        prdc_k=prdc_k,
        seed=_int(seed, "seed"),
        batch_size=_int(batch_size, "batch_size", 1),
        weights=None if weights is None else _path(weights, "weights"),
        stats_cache=bool(stats_cache),
        device=device,
    )
    generator = isinstance(a, (str, os.PathLike)) and _is_checkpoint(os.fspath(a))
    a, b = _images(a, "a"), _images(b, "b")
    if generator and not isinstance(b, str):
        raise TypeError("the real side of a generator's FID must be a path or data set name")
    if image_size is not None:
        image_size = _int(image_size, "image_size", 1)
    return json.loads(_dcgan.fid(a, b, generator, image_size=image_size, **common))


def _is_checkpoint(p):
    return p.endswith(".safetensors") or os.path.isfile(os.path.join(p, "config.json"))


@_translated
def inception_features(
    images, mode: str = "legacy_pytorch", batch_size: int = 50, weights=None, device: str = "flex"
) -> np.ndarray:
    """Inception's 2048 pool features (N, 2048) float32 of uint8 images (N, H, W, C), each
    prepared as ``fid`` prepares a set at its own size, in the convention ``mode``."""
    images = _images(images, "images")
    if isinstance(images, str):
        raise TypeError("images must be a numpy array")
    return _dcgan.inception_features(
        images,
        mode=_mode(mode),
        batch_size=_int(batch_size, "batch_size", 1),
        weights=None if weights is None else _path(weights, "weights"),
        device=device,
    )


def _labels(labels):
    """Class labels as a list of int (None stays None)."""
    if labels is None:
        return None
    y = np.asarray(labels)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"labels must be one row of integers, not {y.dtype} of shape {y.shape}")
    return [int(v) for v in y]


class Generator:
    """A trained G (BatchNorm in inference mode): ``G = Generator.load(run_dir)``, ``G(z)``."""

    def __init__(self, inner):
        self._g = inner
        self.config = json.loads(inner.config_json)

    @classmethod
    @_translated
    def load(cls, path, raw: bool = False) -> "Generator":
        """G of a run directory (its newest checkpoint) or a checkpoint file: the averaged G
        when the run kept one (``train(ema_decay=…)``), the trained G with ``raw=True``."""
        return cls(_dcgan.Generator.load(_path(path, "path"), bool(raw)))

    @property
    def latent_dim(self) -> int:
        return self.config["latent_dim"]

    @property
    def image_size(self) -> int:
        return self.config["image_size"]

    @property
    def channels(self) -> int:
        return self.config["channels"]

    @property
    def classes(self) -> list:
        """A class-conditional G's class names (``train(conditional=True)``); empty otherwise."""
        return list(self.config.get("classes", []))

    @property
    def step(self) -> int:
        """Training steps behind these weights."""
        return self._g.step

    @property
    def path(self) -> str:
        """The checkpoint file read."""
        return os.fspath(self._g.path)

    @_translated
    def __call__(self, z, labels=None) -> np.ndarray:
        """Images (N, channels, size, size) float32 in [-1, 1] of latents ``z`` (N, nz) (or
        (N, nz, 1, 1)): ``dcgan generate``'s output for the same latents. A class-conditional
        G needs ``labels``, one class index per latent (``dcgan generate --labels``)."""
        z = _floats(z, "z", np.ndim(z))
        if z.ndim == 4 and z.shape[2:] == (1, 1):
            z = z.reshape(z.shape[0], -1)
        if z.ndim != 2:
            raise InputError(f"z has shape {z.shape}; this generator takes (N, {self.latent_dim})")
        return self._g.generate(z, _labels(labels))

    @_translated
    def latents(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` latents (N, nz) float32 as ``dcgan sample --seed SEED --save-latents`` draws them."""
        return self._g.latents(_int(n, "n", 1), _int(seed, "seed"))

    def sample(self, n: int, seed: int = 0, label=None) -> np.ndarray:
        """``n`` images from latents drawn from ``seed``: the images of ``dcgan sample``'s grid.
        A class-conditional G draws class ``label`` (``dcgan sample --class``), or with none
        the classes in turn (0, 1, …, K−1, 0, …)."""
        z = self.latents(n, seed)
        if not self.classes:
            if label is not None:
                raise InputError("label was given, but this generator is not class-conditional")
            return self(z)
        if label is None:
            labels = np.arange(len(z)) % len(self.classes)
        else:
            labels = np.full(len(z), _int(label, "label"))
        return self(z, labels)

    def __repr__(self):
        return f"Generator({self.path!r}, step {self.step}, {self.image_size}×{self.image_size}×{self.channels})"


class Discriminator:
    """A trained D (BatchNorm in inference mode): ``D = Discriminator.load(run_dir)``, ``D(x)``."""

    def __init__(self, inner):
        self._d = inner
        self.config = json.loads(inner.config_json)

    @classmethod
    @_translated
    def load(cls, path) -> "Discriminator":
        """D of a run directory (its newest checkpoint) or a checkpoint file that holds one."""
        return cls(_dcgan.Discriminator.load(_path(path, "path")))

    @_translated
    def __call__(self, x, labels=None) -> np.ndarray:
        """D's probability that each image of ``x`` (N, channels, size, size), values in
        [-1, 1], is real: (N,) float32. A class-conditional D given ``labels`` (one class per
        image) adds its class (projection) term; without them it scores the class-agnostic
        part of its logit."""
        return self._d.probabilities(_floats(x, "x", 4), _labels(labels))

    @_translated
    def features(self, x) -> np.ndarray:
        """The paper's §5.1 features of ``x``: every layer max-pooled to 4×4, concatenated
        (N, F) float32: what ``dcgan features`` writes and ``dcgan eval svm`` classifies."""
        return self._d.features(_floats(x, "x", 4))

    def __repr__(self):
        return f"Discriminator({os.fspath(self._d.path)!r})"


#: ``train``'s options: name → (where in the run's config.json, type), the CLI's flags with
#: ``-`` as ``_``. A resume takes only those marked in ``_RESUME_OPTIONS``.
TRAIN_OPTIONS = {
    "image_size": ("model.image_size", int),
    "channels": ("model.channels", int),
    "latent_dim": ("model.latent_dim", int),
    "generator_width": ("model.generator_width", int),
    "discriminator_width": ("model.discriminator_width", int),
    "kernel_size": ("model.kernel_size", int),
    "latent": ("model.latent_distribution", str),
    "epochs": ("train.epochs", int),
    "max_steps": ("train.max_steps", int),
    "batch_size": ("train.batch_size", int),
    "seed": ("train.seed", int),
    "sample_every": ("train.sample_every", int),
    "checkpoint_every": ("train.checkpoint_every", int),
    "keep_checkpoints": ("train.keep_checkpoints", int),
    "tensorboard": ("train.tensorboard", os.PathLike),
    "lr": ("optim.learning_rate", float),
    "beta1": ("optim.beta1", float),
    "lr_d": ("optim.lr_d", float),
    "lr_g": ("optim.lr_g", float),
    "loss": ("recipe.loss", str),
    "d_steps": ("recipe.d_steps", int),
    "ema_decay": ("recipe.ema.decay", float),
    "ema_start": ("recipe.ema.start", int),
    "augment": ("recipe.augment", list),
    # True: the data's classes become model.classes (read from the data by the library).
    "conditional": ("model.classes", bool),
    "workers": ("data.workers", int),
    "max_bad_fraction": ("data.max_bad_fraction", float),
    "exclude": ("data.exclude", str),
    "device": ("device", str),
    "eval_every": ("eval.every", int),
    "eval_samples": ("eval.samples", int),
    "eval_data": ("eval.data", str),
    "fid_mode": ("eval.fid_mode", str),
    "eval_prdc": ("eval.prdc_k", int),
    "keep_best": ("eval.keep_best", str),
}
_RESUME_OPTIONS = {
    "epochs", "max_steps", "device", "tensorboard", "eval_every", "eval_samples", "eval_data",
    "fid_mode", "eval_prdc", "keep_best",
}


def _option(name, value):
    """``value`` checked against the option's type; paths become strings."""
    _, kind = TRAIN_OPTIONS[name]
    if kind is int:
        return _int(value, name)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise TypeError(f"{name} must be a number, not {type(value).__name__}")
        return float(value)
    if kind is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, not {type(value).__name__}")
        return bool(value)
    if kind is os.PathLike:
        return _path(value, name)
    if kind is list:
        # "color,translation" as on the command line, or a list of names.
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise TypeError(f"{name} must be a comma-separated str or a list of str")
        return list(value)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return value


@_translated
def train(
    data=None,
    out=None,
    *,
    resume=None,
    on_event: Optional[Callable[[Dict[str, Any]], None]] = None,
    weights=None,
    stats_cache: bool = True,
    **options,
) -> Dict[str, Any]:
    """Train a DCGAN, as ``dcgan train``: ``train(data="images/", out="runs/x", epochs=5)``,
    or continue a run: ``train(resume="runs/x", max_steps=2000)``.

    ``options`` are the CLI's flags with ``_`` for ``-`` (see ``TRAIN_OPTIONS``); a new run
    starts from the paper's recipe. ``on_event`` receives every progress event as a dict
    (``{"event": "train-step", ...}``). Ctrl-C (KeyboardInterrupt) writes a checkpoint and then
    raises KeyboardInterrupt, as the CLI does; ``train(resume=out)`` continues exactly. An
    exception raised by ``on_event`` stops the run the same way and is re-raised. Returns
    the report of ``dcgan train --json``.
    """
    for name in options:
        if name not in TRAIN_OPTIONS:
            raise TypeError(f"train() got an unexpected option {name!r}; the options are "
                            + ", ".join(sorted(TRAIN_OPTIONS)))
    values = {name: _option(name, v) for name, v in options.items()}
    callback = None
    if on_event is not None:
        if not callable(on_event):
            raise TypeError("on_event must be callable")

        def callback(text):
            on_event(json.loads(text))

    common = dict(
        weights=None if weights is None else _path(weights, "weights"),
        stats_cache=bool(stats_cache),
        on_event=callback,
    )
    if resume is not None:
        if data is not None and not isinstance(data, (str, os.PathLike)):
            raise TypeError("data must be a path")
        if out is not None:
            raise InputError("give resume= or out=, not both")
        refused = sorted(set(values) - _RESUME_OPTIONS)
        if refused:
            raise InputError(f"a resumed run keeps its {', '.join(refused)}: edit its config.json "
                             "only where the CLI allows it")
        if data is not None:
            values["data"] = _path(data, "data")
        if "keep_best" in values:
            values["keep_best"] = values["keep_best"].lower()
        report = _dcgan.train(None, None, _path(resume, "resume"), json.dumps(values), **common)
        return json.loads(report)
    if data is None or out is None:
        raise TypeError("train() needs data= and out= (or resume=)")
    config = json.loads(_dcgan.default_config_json())
    config["data"]["source"] = _path(data, "data")
    if "ema_start" in values and "ema_decay" not in values:
        raise InputError("ema_start needs ema_decay (the average's decay, 0.999 say)")
    if "ema_decay" in values:
        config["recipe"]["ema"] = {"decay": None, "start": 0}
    common["conditional"] = values.pop("conditional", False)
    for name, value in values.items():
        where = config
        *sections, key = TRAIN_OPTIONS[name][0].split(".")
        for section in sections:
            where = where[section]
        where[key] = value
    if "keep_best" in values:
        config["eval"]["keep_best"] = values["keep_best"].lower()
    report = _dcgan.train(json.dumps(config), _path(out, "out"), None, None, **common)
    return json.loads(report)


def _panic_for_tests():
    """Raise InternalError from a deliberate panic inside the library (the tests use it)."""
    return _translated(_dcgan._panic_for_tests)()
