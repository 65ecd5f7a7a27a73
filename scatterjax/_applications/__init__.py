"""Programs built on the transforms: ``extract`` (the resumable ``scatterjax extract`` command,
with ``io`` to read signal files and ``cli`` to dispatch), ``reconstruct`` (gradient-based synthesis
with optax), ``normalize`` (paths divided by their parents), ``tour`` (``python -m scatterjax``)
and ``progress`` (tqdm bars)."""
