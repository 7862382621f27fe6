"""Prediction kinds, their runs and the output entities they write."""
