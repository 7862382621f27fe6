"""The prediction kinds this server can run, by their GraphQL enum name."""

from __future__ import annotations

from server.prediction.base import PredictionKind
from server.prediction.clv import CustomerLifetimeValueKind
from server.prediction.recommendation import ProductRecommendation
from server.prediction.subscription_churn import SubscriptionChurn
from server.prediction.transactional_churn import TransactionalChurn

KINDS: dict[str, PredictionKind] = {}
KINDS[CustomerLifetimeValueKind.name] = CustomerLifetimeValueKind()
KINDS[ProductRecommendation.name] = ProductRecommendation()
KINDS[SubscriptionChurn.name] = SubscriptionChurn()
KINDS[TransactionalChurn.name] = TransactionalChurn()


def get_kind(name: str) -> PredictionKind:
    """Return the kind called `name`; raise KeyError listing the kinds that exist."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(
            f"unknown prediction kind {name!r}; valid: {', '.join(sorted(KINDS))}"
        ) from None
