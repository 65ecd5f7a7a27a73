"""What every transform shares (see README.md in this folder for the data flow).

- ``transform``: :class:`ScatteringTransform`, the base class and its one call pipeline
  (validate -> route sharded input -> run -> format ``out_type``).
- ``validation``: argument and input checks with clear errors; ``errors``: the exception classes.
- ``backend``: kymatio's ``backend`` argument; ``meta``: the per-channel metadata tables.
- ``pytree``: frozen dataclasses registered as pytrees (the filter banks).
- ``frozen``: filter banks as the transforms read them (no derivative, never folded as constants).
- ``amplitude``: signals of any amplitude, computed at a normal one (an exact power-of-two scale).
- ``modulus``: complex modulus with a finite derivative at 0; ``reductions``: row-stable sums;
  ``fft_rows``: FFTs whose transforms keep their bits wherever they sit in the batch.
- ``lax_ops``: ``jnp.take``, ``jnp.where`` and ``jnp.pad`` as single primitives (shorter traces under ``jax.grad``).
- ``padding``: the ``pad_mode`` choices (what fills the border before the FFTs) and ``pad_signal``.
- ``cpu_threads``: how many threads XLA's CPU client computes with.
- ``chunking`` / ``remat_chunks``: batch chunks sized to the CPU cache, outside and inside programs.
- ``sharding``: batches split across devices.
- ``fork_guard``: a clear error, not a hang, in a process forked after JAX started.
- ``read_only``: the filters shown in kymatio's layout, made read-only (edits raise, never ignored).
"""
