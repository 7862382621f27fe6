"""The PRODUCT_RECOMMENDATION kind: top-K products per customer from co-purchases.

A run makes three fits. The first, on the purchases up to two holdout lengths
before the last purchase day, chooses the similarity weight on the holdout length
that follows (see `tuning`). The second, on the purchases up to one holdout length
before the last day, is graded with that weight on the last `holdout_days` days
against the popularity baseline, and also chooses the weight for scoring. The third
is fitted on all purchases and scores every customer of the source.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from server.prediction.base import KindResult, Metric, ParameterError, PredictionDataError, Progress
from server.prediction.recommendation.catalog import read_catalog
from server.prediction.recommendation.evaluation import (
    HoldoutScore,
    Split,
    evaluate,
    grade,
    make_split,
)
from server.prediction.recommendation.filters import (
    CATALOG_ATTRIBUTES,
    filter_attributes,
    filter_mask,
    parse_filters,
)
from server.prediction.recommendation.interactions import (
    Interactions,
    day_label,
    load_purchase_lines,
)
from server.prediction.recommendation.parameters import (
    RecommendationParameters,
    validate_parameters,
)
from server.prediction.recommendation.results import (
    data_statistics,
    most_recommended,
    output_rows,
    reason_counts,
)
from server.prediction.recommendation.tuning import (
    DEFAULT_SIMILARITY_WEIGHT,
    SIGNIFICANCE_LEVEL,
    Tuning,
    fit_baseline,
    fit_model,
    sign_test,
    tune,
)

logger = logging.getLogger(__name__)


@dataclass
class HoldoutGrade:
    """The grade of a run, and the similarity weight the scoring fit should use."""

    grade: str | None
    reason: str
    scoring_weight: float
    metrics: list[Metric] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def catalog_for(engine: Engine, source: str, products: pd.Index) -> tuple[pd.DataFrame, int]:
    """Read the catalog of `source`, one row per product of `products` in that order."""
    catalog = read_catalog(engine, source)
    return catalog.reindex(products), len(catalog)


def allowed_products(
    checked: RecommendationParameters, catalog: pd.DataFrame, catalog_size: int
) -> np.ndarray | None:
    """Return the mask of products that pass the product filters; None without filters."""
    if checked.product_filters is None:
        return None
    tree, _ = parse_filters(checked.product_filters)
    assert tree is not None, "product_filters were validated with the parameters"

    if catalog_size == 0:
        raise ParameterError(
            {
                "product_filters": f"source {checked.source!r} has no product catalog to filter "
                "on; load one (load_products_from_orders or load_catalog_csv) or drop the filters"
            }
        )
    unknown = sorted(filter_attributes(tree) - set(catalog.columns))
    if unknown:
        valid = [*CATALOG_ATTRIBUTES, *(c for c in catalog.columns if c not in CATALOG_ATTRIBUTES)]
        raise ParameterError(
            {
                "product_filters": f"unknown attribute {unknown[0]!r} in the catalog of source "
                f"{checked.source!r}; valid: {', '.join(valid)}"
            }
        )

    allowed = filter_mask(tree, catalog)
    if not allowed.any():
        raise PredictionDataError(
            f"product_filters allow none of the {len(catalog)} purchased products of source "
            f"{checked.source!r}; widen the filters"
        )
    return allowed


def _not_graded(reason: str, details: dict[str, Any]) -> HoldoutGrade:
    return HoldoutGrade(None, f"not graded: {reason}", DEFAULT_SIMILARITY_WEIGHT, [], details)


def grade_on_holdout(
    interactions: Interactions, checked: RecommendationParameters, allowed: np.ndarray | None
) -> HoldoutGrade:
    """Choose the similarity weight, then grade the model against popularity on the holdout."""
    holdout = checked.holdout_days
    cutoff = interactions.last_day - holdout
    tuning_cutoff = cutoff - holdout

    def split_at(day: int) -> Split:
        return make_split(
            interactions,
            day,
            holdout,
            lookback_days=checked.lookback_days,
            allowed=allowed,
            repeat_purchases=checked.repeat_purchases,
        )

    details: dict[str, Any] = {
        "holdout_start": day_label(cutoff + 1),
        "holdout_end": day_label(interactions.last_day),
    }
    if cutoff < interactions.first_day:
        return _not_graded(
            f"the purchases from {day_label(interactions.first_day)} to "
            f"{day_label(interactions.last_day)} are too short to set aside a holdout of "
            f"{holdout} days; lower holdout_days",
            details,
        )

    tuning_split = split_at(tuning_cutoff)
    tuning_model = fit_model(
        tuning_split.history, repeat_purchases=checked.repeat_purchases, seed=checked.seed
    )
    chosen = tune(tuning_model, tuning_split, checked.k, allowed)

    split = split_at(cutoff)
    if len(split.rows) == 0:
        return _not_graded(
            f"no customer with purchases up to {day_label(cutoff)} bought a target product "
            f"from {details['holdout_start']} to {details['holdout_end']}",
            details,
        )
    model = fit_model(split.history, repeat_purchases=checked.repeat_purchases, seed=checked.seed)
    on_holdout = tune(model, split, checked.k, allowed)
    baseline_model = fit_baseline(split.history, seed=checked.seed)
    baseline = evaluate(baseline_model, split, checked.k, allowed)
    scored = on_holdout.scores[chosen.best]

    period = f"{details['holdout_start']} to {details['holdout_end']}"
    letter, reason = grade(scored, baseline, checked.k, period)
    if chosen.best == 0.0 and chosen.scores:
        reason += " " + _no_signal_note(chosen, checked.repeat_purchases)
    details.update(
        {
            "graded_customers": scored.customers,
            "similarity_weight": chosen.best,
            "tuning_holdout_start": day_label(tuning_cutoff + 1),
            "tuning_customers": len(tuning_split.rows),
            "tuning_success_by_weight": chosen.success_by_weight(),
            "tuning_p_value": chosen.p_value,
            "holdout_success_by_weight": on_holdout.success_by_weight(),
            "holdout_p_value": on_holdout.p_value,
            "scoring_similarity_weight": on_holdout.best,
        }
    )
    return HoldoutGrade(
        letter, reason, on_holdout.best, _metrics(scored, baseline, checked.k), details
    )


def _no_signal_note(chosen: Tuning, repeat_purchases: bool) -> str:
    """Explain why the graded model used no co-purchase similarity."""
    fallback = "popularity and the customer's own purchases" if repeat_purchases else "popularity"
    without = chosen.scores[0.0]
    best = max(
        (weight for weight in chosen.scores if weight > 0),
        key=lambda weight: (chosen.scores[weight].success, -weight),
    )
    p_value = sign_test(chosen.scores[best], without)
    return (
        "The co-purchases showed no significant signal on the tuning holdout (the best "
        f"similarity weight, {best:g}, reached Success {chosen.scores[best].success:.3f} against "
        f"{without.success:.3f} without similarity; sign test p = {p_value:.2f}, needs below "
        f"{SIGNIFICANCE_LEVEL}), so the model recommends by {fallback} alone."
    )


def _metrics(model: HoldoutScore, baseline: HoldoutScore, k: int) -> list[Metric]:
    return [
        Metric(f"success_at_{k}", model.success, baseline.success),
        Metric(f"precision_at_{k}", model.precision, baseline.precision),
    ]


class ProductRecommendation:
    """The top K products for each customer, graded against popularity."""

    name = "PRODUCT_RECOMMENDATION"

    def validate_parameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return validate_parameters(raw).as_dict()

    def run(self, engine: Engine, parameters: Mapping[str, Any], progress: Progress) -> KindResult:
        started = time.perf_counter()
        checked = validate_parameters(parameters)

        progress("features")
        interactions = Interactions.from_lines(load_purchase_lines(engine, checked.source))
        catalog, catalog_size = catalog_for(engine, checked.source, interactions.products)
        allowed = allowed_products(checked, catalog, catalog_size)

        progress("evaluation")
        graded = grade_on_holdout(interactions, checked, allowed)

        progress("training")
        last = interactions.last_day
        start = None if checked.lookback_days is None else last - checked.lookback_days
        history = interactions.matrix(start, last)
        model = fit_model(
            history,
            repeat_purchases=checked.repeat_purchases,
            seed=checked.seed,
            weight=graded.scoring_weight,
        )

        progress("scoring")
        exclude = None if checked.repeat_purchases else interactions.matrix(None, last)
        recommended = model.recommend(history, checked.k, allowed=allowed, exclude=exclude)
        scored_at = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
        rows = output_rows(recommended, interactions, catalog, scored_at)

        with_history = int((np.diff(history.indptr) > 0).sum())
        details: dict[str, Any] = {
            **graded.details,
            "k": checked.k,
            "repeat_purchases": checked.repeat_purchases,
            "most_recommended": most_recommended(rows),
            "reasons": reason_counts(rows),
            "data": data_statistics(interactions, catalog, allowed, with_history),
        }
        logger.info(
            "recommendation run on source %s scored %s customers in %.1f s, grade %s",
            checked.source,
            len(interactions.customers),
            time.perf_counter() - started,
            graded.grade,
        )
        return KindResult(rows, graded.grade, graded.reason, graded.metrics, [], details)
