"""Customer lifetime value: BG/NBD purchase counts and Gamma-Gamma spend per customer."""

from server.prediction.clv.kind import CustomerLifetimeValueKind

__all__ = ["CustomerLifetimeValueKind"]
