"""Subscription churn: which subscribers will let their coverage lapse, from their history."""

from server.prediction.subscription_churn.kind import SubscriptionChurn

__all__ = ["SubscriptionChurn"]
