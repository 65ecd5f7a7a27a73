"""2D Morlet scattering, in data-flow order: ``design`` (NumPy filters, kymatio 0.3.0's) ->
``bank`` (the FilterBank2D pytree) -> ``core`` (the pure function ``scattering2d``) -> ``frontend``
(the ``Scattering2D`` class)."""
