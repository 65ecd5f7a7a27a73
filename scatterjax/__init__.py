"""scatterjax: wavelet scattering transforms in JAX, with kymatio 0.3.0's numbers."""

from ._bank1d import FilterBank1D as FilterBank1D
from ._bank1d import filter_bank_1d as filter_bank_1d
from ._frontend1d import Scattering1D as Scattering1D
from ._modulus import modulus as modulus
from ._scattering1d import scattering1d as scattering1d

__version__ = "0.1.0.dev0"
