"""1D Morlet scattering, in data-flow order: ``design`` (NumPy filters, kymatio 0.3.0's) ->
``windows``/``fourier`` (filter supports and Fourier-domain folds) -> ``bank`` (the FilterBank1D
pytree) -> ``core`` (the pure function ``scattering1d``) -> ``frontend`` (the ``Scattering1D``
class); ``kymatio_filters`` lays the filters out as kymatio's ``psi1_f``/``psi2_f``/``phi_f``;
``scalogram`` gives the first-order coefficients before averaging (``scalogram_1d``)."""
