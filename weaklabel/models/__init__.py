"""Models that score a clip's features for positive sentiment, behind one small interface.

Every model follows :class:`~weaklabel.models.base.Model`: ``fit(X, y, *, X_val, y_val,
sample_weight, groups)``, ``predict_proba(X)`` (shape (n, 2), columns P(negative), P(positive)),
``save(folder)`` and ``load(folder)``. ``Model`` is a template: those methods check inputs once and
call each class's private hooks. Parameters are keyword-only and stored as given, validated in
``fit``; fitted attributes end in an underscore (the scikit-learn conventions).

- :class:`~weaklabel.models.head.DenseHead`: a Keras dense network (the head on frozen embeddings,
  and the dense baseline on time-averaged mels). TensorFlow is imported only when it is fitted or
  loaded.
- :class:`~weaklabel.models.logreg.LogisticModel`: logistic regression on z-scored features, ``C``
  chosen by an inner cross-validation grouped by speaker (``groups``); saved as JSON.
- :mod:`weaklabel.models.baselines`: RandomForest, KNN, duration-only logistic regression and the
  class prior (scikit-learn; saved in the skops format with an explicit list of trusted types, the
  KNN as its training rows).

No saved model file runs code when it loads (:mod:`weaklabel.models.files`): nothing is pickled,
Keras files load in safe mode, and a damaged file is one DataError naming it.

:mod:`weaklabel.models.bundle` names models ``KIND@FEATURES`` (``logreg@yamnet``) and indexes a
models folder.
"""

from weaklabel.models.base import Model, load_saved

__all__ = ["Model", "load_saved"]
