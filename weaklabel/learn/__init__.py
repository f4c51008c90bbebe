"""Learning and scoring: the split, training, evaluation, cross-corpus evaluation and the probe."""
