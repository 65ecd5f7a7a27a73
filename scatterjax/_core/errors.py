"""Exception classes that keep both our error types and kymatio 0.3.0's.

kymatio raises ``RuntimeError`` where an input or a size does not fit the transform's shape or a
``frontend`` name is unknown, ``ImportError`` for a backend it cannot use, and
``NotImplementedError`` for a ``Q`` tuple of other than one or two entries. We raise the types
our style asks for (``ValueError`` for bad values) and, where kymatio documented another type, a
class that is an instance of both, so that ``except ValueError`` and kymatio users'
``except RuntimeError`` both catch it.
"""

from __future__ import annotations

# ShapeError and FrontendError use ``Exception.__init__`` (which behaves as their bases' do):
# TensorFlow's autograph re-raises an error from inside a ``tf.function`` as the same type only for
# built-in types and for types whose ``__init__`` is ``Exception.__init__``; any other type became
# a ``tf.errors.StagingError``, neither a ``ValueError`` nor a ``RuntimeError``.


class ShapeError(ValueError, RuntimeError):
    """An input array, or a size setting such as ``J``, does not fit the transform's shape.

    A ``ValueError`` and a ``RuntimeError`` (what kymatio 0.3.0 raises at the same places).
    """

    __init__ = Exception.__init__


class BackendError(ImportError, ValueError):
    """The ``backend`` argument names a backend that this class cannot run.

    An ``ImportError`` (what kymatio 0.3.0 raises) and a ``ValueError``. (Raised at construction,
    never inside a ``tf.function``: it keeps ``ImportError``'s ``__init__``.)
    """


class FrontendError(ValueError, RuntimeError):
    """The ``frontend`` argument names no frontend (kymatio's ``from kymatio import Scattering2D``
    entry point, ``Scattering2D(..., frontend='torch')``).

    A ``ValueError`` and a ``RuntimeError`` (what kymatio 0.3.0 raises).
    """

    __init__ = Exception.__init__


class QLengthError(ValueError, NotImplementedError):
    """``Q`` is a tuple of other than one or two entries (1D and JTFS take ``Q``, ``(Q1,)`` or
    ``(Q1, Q2)``).

    A ``ValueError`` and a ``NotImplementedError`` (what kymatio 0.3.0 raises).
    """

    __init__ = Exception.__init__
