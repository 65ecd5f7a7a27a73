"""scatterjax: wavelet scattering transforms in JAX, with kymatio 0.3.0's numbers.

Transforms (kymatio 0.3.0's constructors, immutable pytrees, callable on batches):
``Scattering1D``, ``Scattering2D``, ``HarmonicScattering3D``, and kymatio main's joint
time-frequency scattering ``TimeFrequencyScattering``. Pure functions over filter banks:
``scattering1d``, ``scattering2d``, ``harmonic_scattering3d``, ``time_frequency_scattering``. Framework adapters live in
``scatterjax.flax``, ``scatterjax.flax.linen``, ``scatterjax.equinox``, ``scatterjax.torch``,
``scatterjax.tensorflow``, ``scatterjax.keras`` and ``scatterjax.sklearn``; plots in
``scatterjax.plot``.
"""

from ._bank1d import FilterBank1D as FilterBank1D
from ._bank1d import filter_bank_1d as filter_bank_1d
from ._bank2d import FilterBank2D as FilterBank2D
from ._bank2d import filter_bank_2d as filter_bank_2d
from ._bank3d import FilterBank3D as FilterBank3D
from ._bank3d import filter_bank_3d as filter_bank_3d
from ._bank_jtfs import FilterBankJTFS as FilterBankJTFS
from ._bank_jtfs import filter_bank_jtfs as filter_bank_jtfs
from ._frontend1d import Scattering1D as Scattering1D
from ._frontend2d import Scattering2D as Scattering2D
from ._frontend3d import HarmonicScattering3D as HarmonicScattering3D
from ._frontend_jtfs import TimeFrequencyScattering as TimeFrequencyScattering
from ._jtfs import time_frequency_scattering as time_frequency_scattering
from ._modulus import modulus as modulus
from ._reconstruct import reconstruct as reconstruct
from ._scattering1d import scattering1d as scattering1d
from ._scattering2d import scattering2d as scattering2d
from ._scattering3d import harmonic_scattering3d as harmonic_scattering3d
from ._scattering3d import order0_integrals as order0_integrals
from ._sharding import make_batch_mesh as make_batch_mesh
from ._sharding import replicate as replicate
from ._sharding import shard_batch as shard_batch
from ._sharding import sharded_apply as sharded_apply

__version__ = "0.1.0.dev0"
