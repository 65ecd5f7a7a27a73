"""Joint time-frequency scattering (kymatio main's), in data-flow order: ``bank`` (the frequency
filters and their dense maps along log-frequency, designed in NumPy on top of the 1D bank) ->
``core`` (the pure function ``time_frequency_scattering``, reusing the 1D core's first and second
order) -> ``frontend`` (the ``TimeFrequencyScattering`` class)."""
