"""A clear error instead of a hang in a process forked after JAX started.

JAX's runtime threads do not survive ``os.fork``: in a forked child of a process that has run JAX,
any JAX computation hangs (even ``jnp.ones(3).sum()``). ``multiprocessing`` forks its workers by
default on Linux before Python 3.14, and so does PyTorch's ``DataLoader``, so code written for
kymatio's NumPy or torch frontends (``Pool().map(S, chunks)``) would hang silently. The transforms
remember the process that first built or ran one, and refuse to build or run in any other.
"""

from __future__ import annotations

import os

# The process in which a transform was first built or called (JAX has started there).
_jax_process: int | None = None

_FIX = (
    "Compute the scattering in the parent process (one batched call is usually faster than "
    "workers anyway), or start the workers with the 'spawn' or 'forkserver' method, e.g. "
    "multiprocessing.get_context('spawn').Pool()."
)


def check_not_forked(what: str = "A scatterjax transform", fix: str = _FIX) -> None:
    """Raise ``RuntimeError`` if a transform was built or run in another process, of which this
    one is a fork (JAX would hang here); otherwise remember this process.

    Args:
      what: the subject of the message (e.g. ``"A scatterjax.torch module"``).
      fix: what to do instead, for the message.
    """
    global _jax_process
    pid = os.getpid()
    if _jax_process is None:
        _jax_process = pid
    elif _jax_process != pid:
        raise RuntimeError(
            f"{what} was called in process {pid}, forked from process {_jax_process} after JAX "
            f"started there; JAX cannot run in a forked child (it hangs). {fix}"
        )
