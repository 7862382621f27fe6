"""Transactional churn: who will stop buying, from order lines alone."""

from server.prediction.transactional_churn.kind import TransactionalChurn

__all__ = ["TransactionalChurn"]
