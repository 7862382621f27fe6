"""Product recommendation: item-to-item co-purchase similarity with a popularity fallback."""

from server.prediction.recommendation.kind import ProductRecommendation

__all__ = ["ProductRecommendation"]
