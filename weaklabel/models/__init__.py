"""Models that score a clip's features for positive sentiment, behind one small interface.

Every model follows :class:`~weaklabel.models.base.Model`: ``fit(X, y, *, X_val, y_val,
sample_weight)``, ``predict_proba(X)`` (shape (n, 2), columns P(negative), P(positive)),
``save(folder)`` and ``load(folder)``. Parameters are stored in ``__init__``, validated in ``fit``;
fitted attributes end in an underscore (the scikit-learn conventions).

- :class:`~weaklabel.models.head.DenseHead`: a Keras dense network (the head on frozen VGG16
  embeddings, and the dense baseline on time-averaged mels). TensorFlow is imported only when it
  is fitted or loaded.
- :mod:`weaklabel.models.baselines`: RandomForest, KNN, duration-only logistic regression and the
  class prior (scikit-learn).
"""

from weaklabel.models.base import Model, load_saved

__all__ = ["Model", "load_saved"]
