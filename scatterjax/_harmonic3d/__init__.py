"""3D solid harmonic scattering, in data-flow order: ``design`` (NumPy solid harmonic wavelets,
kymatio 0.3.0's) -> ``bank`` (the FilterBank3D pytree) -> ``core`` (the pure function
``harmonic_scattering3d``) -> ``frontend`` (the ``HarmonicScattering3D`` class)."""
