"""Type stubs of the dcgan package (see __init__.py for each function's documentation)."""

import os
from typing import Any, Callable, Dict, Iterable, List, Literal, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

PathLike = Union[str, os.PathLike]
ImageSet = Union[PathLike, npt.NDArray[np.uint8]]
FidMode = Literal["legacy_pytorch", "clean", "legacy_tensorflow", "legacy_dcgan"]
Metric = Literal["fid", "kid", "prdc"]

FID_MODES: Tuple[str, ...]
TRAIN_OPTIONS: Dict[str, Tuple[str, type]]

class DcganError(Exception): ...
class InputError(DcganError, ValueError): ...
class MissingFileError(InputError, FileNotFoundError): ...
class IOFailure(DcganError, OSError): ...
class JobError(DcganError, RuntimeError): ...
class InternalError(DcganError, RuntimeError): ...

def fid(
    a: ImageSet,
    b: ImageSet,
    n: int = 10_000,
    mode: FidMode = "legacy_pytorch",
    metrics: Union[Metric, Iterable[Metric]] = ("fid", "kid"),
    k: int = 3,
    seed: int = 0,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    batch_size: int = 50,
    image_size: Optional[int] = None,
    weights: Optional[PathLike] = None,
    stats_cache: bool = True,
    device: str = "flex",
) -> Dict[str, Any]: ...
def inception_features(
    images: npt.NDArray[np.uint8],
    mode: FidMode = "legacy_pytorch",
    batch_size: int = 50,
    weights: Optional[PathLike] = None,
    device: str = "flex",
) -> npt.NDArray[np.float32]: ...

class Generator:
    config: Dict[str, Any]
    @classmethod
    def load(cls, path: PathLike, raw: bool = False) -> "Generator": ...
    @property
    def latent_dim(self) -> int: ...
    @property
    def image_size(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def step(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def classes(self) -> List[str]: ...
    def __call__(
        self, z: npt.NDArray[np.floating], labels: Optional[npt.ArrayLike] = None
    ) -> npt.NDArray[np.float32]: ...
    def latents(self, n: int, seed: int = 0) -> npt.NDArray[np.float32]: ...
    def sample(
        self, n: int, seed: int = 0, label: Optional[int] = None
    ) -> npt.NDArray[np.float32]: ...

class Discriminator:
    config: Dict[str, Any]
    @classmethod
    def load(cls, path: PathLike) -> "Discriminator": ...
    def __call__(
        self, x: npt.NDArray[np.floating], labels: Optional[npt.ArrayLike] = None
    ) -> npt.NDArray[np.float32]: ...
    def features(self, x: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]: ...

def train(
    data: Optional[PathLike] = None,
    out: Optional[PathLike] = None,
    *,
    resume: Optional[PathLike] = None,
    on_event: Optional[Callable[[Dict[str, Any]], None]] = None,
    weights: Optional[PathLike] = None,
    stats_cache: bool = True,
    **options: Any,
) -> Dict[str, Any]: ...
