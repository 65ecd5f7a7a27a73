"""What the framework adapters share (``common``): adapter classes generated from the core
signatures, attribute forwarding, frozen filters. The adapters themselves are the public modules
``scatterjax.flax``, ``scatterjax.equinox``, ``scatterjax.torch``, ``scatterjax.tensorflow``,
``scatterjax.keras`` and ``scatterjax.sklearn``."""
