"""Weak labels from text: text normalisation, the labellers and their combination, label analysis."""
