"""Lookahead: customer-insights predictions and the segments built from them."""

__version__ = "0.1.0"
