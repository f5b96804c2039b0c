"""helpers: the small, tested package that the chapters of *Few Labels, Many Images* import.

Modules (data flows one way, top to bottom):

- :mod:`helpers.config`   profile (quick/full), dataset choice, seeds, cache folder
- :mod:`helpers.data`     offline loading, checksums, subsamples and label budgets
- :mod:`helpers.models`   small Keras builders (MLP, CNN, autoencoder), new heads, freezing
- :mod:`helpers.cache`    on-disk cache of trained weights and arrays, keyed by parameters
- :mod:`helpers.plotting` figures in the book's style
- :mod:`helpers.report`   glue numbers into the prose (works without myst-nb too)

Import the modules you need, e.g. ``from helpers import config, data``.
Nothing heavy (TensorFlow) is imported here.
"""

__version__ = "0.1.0"
