"""helpers: the small, tested package that the chapters of *Few Labels, Many Images* import.

Modules (data flows one way: notebooks -> evaluation -> features / semi_supervised /
self_training / training / representations / challenges -> data / clustering / models / cache / plotting / config):

- :mod:`helpers.config`          profile (quick/full), dataset choice, seeds, cache folder
- :mod:`helpers.data`            offline loading, checksums, subsamples and label budgets
- :mod:`helpers.cache`           on-disk cache of trained weights and arrays; `fingerprint`, the one hash of cache keys
- :mod:`helpers.validation`      input checks shared by every helper (built on scikit-learn's validators)
- :mod:`helpers.models`          small Keras builders (MLP, CNN, autoencoder), new heads, freezing
- :mod:`helpers.clustering`      k-means, Hungarian-matched accuracy, NMI/ARI/purity tables
- :mod:`helpers.representations` PCA, autoencoder codes, UMAP, the N2D clustering pipeline
- :mod:`helpers.training`        supervised fitting, pseudo-label pretraining, fine-tuning
- :mod:`helpers.features`        k-means patch features (Coates & Ng)
- :mod:`helpers.semi_supervised` label spreading and teacher -> student training
- :mod:`helpers.self_training`   augmentation and rounds of label propagation <-> student network
- :mod:`helpers.self_supervised` contrastive pretraining (SimCLR), consistency training, their methods
- :mod:`helpers.label_pool`      your own folder: spread a few labels, estimate accuracy, what to label next
- :mod:`helpers.evaluation`      methods x label budgets x draws, with error bars
- :mod:`helpers.challenges`      missing pixels, class imbalance, limited compute
- :mod:`helpers.toy`             small 2-D problems and Lloyd's algorithm for chapter 2
- :mod:`helpers.plotting`        figures in the book's style
- :mod:`helpers.report`          glue numbers into the prose (works without myst-nb too)
- :mod:`helpers.progress`        progress bars and clocks on standard error (JupyterLab shows them, the HTML book not)

Import the modules you need, e.g. ``from helpers import config, data``.
Nothing heavy (TensorFlow) is imported here.
"""

__version__ = "0.1.0"
