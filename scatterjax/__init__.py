"""scatterjax: wavelet scattering transforms in JAX, with kymatio 0.3.0's numbers.

Transforms (kymatio 0.3.0's constructors, immutable pytrees, callable on batches):
``Scattering1D``, ``Scattering2D``, ``HarmonicScattering3D``, and kymatio main's joint
time-frequency scattering ``TimeFrequencyScattering``. Pure functions over filter banks:
``scattering1d``, ``scattering2d``, ``harmonic_scattering3d``, ``time_frequency_scattering``. Framework adapters live in
``scatterjax.flax``, ``scatterjax.flax.linen``, ``scatterjax.equinox``, ``scatterjax.torch``,
``scatterjax.tensorflow``, ``scatterjax.keras`` and ``scatterjax.sklearn``; plots in
``scatterjax.plot``.
"""

from ._applications.normalize import normalize as normalize
from ._applications.reconstruct import reconstruct as reconstruct
from ._core.errors import BackendError as BackendError
from ._core.errors import FrontendError as FrontendError
from ._core.errors import QLengthError as QLengthError
from ._core.errors import ShapeError as ShapeError
from ._core.modulus import modulus as modulus
from ._core.sharding import make_batch_mesh as make_batch_mesh
from ._core.sharding import replicate as replicate
from ._core.sharding import shard_batch as shard_batch
from ._core.sharding import sharded_apply as sharded_apply
from ._harmonic3d.bank import FilterBank3D as FilterBank3D
from ._harmonic3d.bank import filter_bank_3d as filter_bank_3d
from ._harmonic3d.core import harmonic_scattering3d as harmonic_scattering3d
from ._harmonic3d.core import order0_integrals as order0_integrals
from ._harmonic3d.frontend import HarmonicScattering3D as HarmonicScattering3D
from ._jtfs.bank import FilterBankJTFS as FilterBankJTFS
from ._jtfs.bank import filter_bank_jtfs as filter_bank_jtfs
from ._jtfs.core import time_frequency_scattering as time_frequency_scattering
from ._jtfs.frontend import TimeFrequencyScattering as TimeFrequencyScattering
from ._scattering1d.bank import FilterBank1D as FilterBank1D
from ._scattering1d.bank import filter_bank_1d as filter_bank_1d
from ._scattering1d.core import scattering1d as scattering1d
from ._scattering1d.frontend import Scattering1D as Scattering1D
from ._scattering1d.scalogram import ScalogramFilters as ScalogramFilters
from ._scattering1d.scalogram import scalogram_1d as scalogram_1d
from ._scattering1d.scalogram import scalogram_filters as scalogram_filters
from ._scattering1d.scalogram import wavelet_transform_1d as wavelet_transform_1d
from ._scattering2d.bank import FilterBank2D as FilterBank2D
from ._scattering2d.bank import filter_bank_2d as filter_bank_2d
from ._scattering2d.core import scattering2d as scattering2d
from ._scattering2d.frontend import Scattering2D as Scattering2D

# The one place the version is written: pyproject.toml reads it from here (hatch dynamic version).
__version__ = "0.1.0.dev0"
