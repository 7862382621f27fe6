// A prediction's results page: grade, metrics beside the baseline, the most
// influential factors, the score distribution and sample rows of the output entity.

import { ApiError, graphql } from "../api.js";
import { formatDateTime, formatNumber, h, humanize, replaceChildren } from "../dom.js";
import { binValues, histogram } from "../histogram.js";
import { gradeBadge, statusBadge } from "./predictions.js";

const RESULTS_QUERY = `
  query PredictionResults($id: ID!) {
    prediction(id: $id) {
      id name kind status error outputEntityName
      results {
        grade gradeReason rowCount finishedAt details
        metrics { name value baseline }
        factors { name importance }
      }
      outputEntity {
        name rowCount updatedAt
        attributes { name dataType operators }
        rows(first: 10) { edges { node { customerId values } } }
      }
    }
  }
`;

const SCORE_ROWS_QUERY = `
  query ScoreRows($id: ID!, $first: Int, $after: String) {
    prediction(id: $id) {
      outputEntity {
        rows(first: $first, after: $after) {
          edges { node { values } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
  }
`;

// The score column of each kind's output entity.
const SCORE_COLUMNS = {
  TRANSACTIONAL_CHURN: "ChurnScore",
  SUBSCRIPTION_CHURN: "ChurnScore",
  CUSTOMER_LIFETIME_VALUE: "CLVScore",
  PRODUCT_RECOMMENDATION: "Score",
};
const PROBABILITY_KINDS = new Set(["TRANSACTIONAL_CHURN", "SUBSCRIPTION_CHURN"]);
const BIN_COUNT = 20;
// The chart reads at most this many rows page by page; a caption says when it
// shows only the first rows of a larger entity.
const MAX_CHART_ROWS = 2000;
const ROWS_PAGE_SIZE = 100;
const TOP_FACTORS = 10;

function scoreColumn(prediction) {
  const attributes = prediction.outputEntity?.attributes ?? [];
  const known = SCORE_COLUMNS[prediction.kind];
  if (attributes.some((attribute) => attribute.name === known)) return known;
  const fallback = attributes.find(
    (attribute) => attribute.dataType === "NUMBER" && /score$/i.test(attribute.name),
  );
  return fallback?.name ?? null;
}

async function readScoreRowsPage(id, first, after) {
  try {
    return await graphql(SCORE_ROWS_QUERY, { id, first, after });
  } catch (error) {
    // A server configured with a smaller maximum page size rejects 100: use its default.
    if (error instanceof ApiError && error.code === "BAD_USER_INPUT" && first !== null) {
      return readScoreRowsPage(id, null, after);
    }
    throw error;
  }
}

async function readScores(id, column) {
  const scores = [];
  let after = null;
  let more = true;
  while (more && scores.length < MAX_CHART_ROWS) {
    const data = await readScoreRowsPage(id, ROWS_PAGE_SIZE, after);
    const connection = data.prediction?.outputEntity?.rows;
    if (!connection) break;
    for (const edge of connection.edges) {
      const value = edge.node.values[column];
      if (typeof value === "number" && Number.isFinite(value)) scores.push(value);
    }
    more = connection.pageInfo.hasNextPage;
    after = connection.pageInfo.endCursor;
  }
  return { scores, complete: !more };
}

/** Bins from a precomputed histogram in results.details ({edges: [n+1], counts: [n]}). */
function binsFromDetails(details) {
  const stored = details?.score_histogram;
  if (!stored || !Array.isArray(stored.edges) || !Array.isArray(stored.counts)) return null;
  if (stored.edges.length !== stored.counts.length + 1) return null;
  return stored.counts.map((count, index) => ({
    low: stored.edges[index],
    high: stored.edges[index + 1],
    count,
  }));
}

async function distributionSection(prediction) {
  const section = h("section", { class: "card" }, h("h3", {}, "Score distribution"));
  const column = scoreColumn(prediction);
  const stored = binsFromDetails(prediction.results?.details);
  if (stored) {
    section.append(histogram(stored, column ?? "score"));
    return section;
  }
  if (!column) {
    section.append(h("p", { class: "muted" }, "This output entity has no score column to chart."));
    return section;
  }

  const placeholder = h("p", { class: "muted" }, "Reading scores…");
  section.append(placeholder);
  const { scores, complete } = await readScores(prediction.id, column);
  if (scores.length === 0) {
    placeholder.textContent = `No ${column} values to chart.`;
    return section;
  }

  const low = PROBABILITY_KINDS.has(prediction.kind) ? 0 : Math.min(...scores);
  const high = PROBABILITY_KINDS.has(prediction.kind) ? 1 : Math.max(...scores);
  placeholder.replaceWith(histogram(binValues(scores, BIN_COUNT, low, high), column));
  const total = prediction.outputEntity.rowCount;
  section.append(
    h(
      "p",
      { class: "muted" },
      complete
        ? `${formatNumber(scores.length)} rows of ${prediction.outputEntity.name}.`
        : `The first ${formatNumber(scores.length)} of ${formatNumber(total)} rows, by CustomerId.`,
    ),
  );
  return section;
}

function gradeSection(results) {
  return h(
    "section",
    { class: "card grade-card", "data-testid": "grade" },
    h("div", { class: "grade-big" }, gradeBadge(results.grade)),
    h(
      "div",
      {},
      h("h3", {}, "Grade"),
      h("p", {}, results.gradeReason),
      h("p", { class: "muted" }, `Finished ${formatDateTime(results.finishedAt)}.`),
    ),
  );
}

function metricsSection(metrics) {
  if (metrics.length === 0) return null;
  const rows = metrics.map((metric) => {
    const difference = metric.baseline === null ? null : metric.value - metric.baseline;
    return h(
      "tr",
      {},
      h("td", {}, metric.name),
      h("td", { class: "number" }, formatNumber(metric.value)),
      h("td", { class: "number" }, formatNumber(metric.baseline)),
      h(
        "td",
        { class: "number" },
        difference === null ? "–" : `${difference >= 0 ? "+" : ""}${formatNumber(difference)}`,
      ),
    );
  });
  return h(
    "section",
    { class: "card" },
    h("h3", {}, "Model beside baseline"),
    h(
      "table",
      { class: "data", "data-testid": "metrics" },
      h("thead", {}, h("tr", {}, ["Metric", "Model", "Baseline", "Difference"].map((label) => h("th", {}, label)))),
      h("tbody", {}, rows),
    ),
  );
}

function factorsSection(factors) {
  if (factors.length === 0) return null;
  const top = [...factors].sort((a, b) => b.importance - a.importance).slice(0, TOP_FACTORS);
  const largest = Math.max(...top.map((factor) => factor.importance), Number.EPSILON);
  return h(
    "section",
    { class: "card" },
    h("h3", {}, "Most influential factors"),
    h(
      "ol",
      { class: "factors", "data-testid": "factors" },
      top.map((factor) =>
        h(
          "li",
          {},
          h("span", { class: "factor-name" }, factor.name),
          h(
            "span",
            { class: "factor-bar" },
            h("span", { style: `width: ${(100 * factor.importance) / largest}%` }),
          ),
          h("span", { class: "number" }, `${(100 * factor.importance).toFixed(1)}%`),
        ),
      ),
    ),
  );
}

function sampleRowsSection(entity) {
  const columns = entity.attributes.map((attribute) => attribute.name);
  const rows = entity.rows.edges.map(({ node }) =>
    h("tr", {}, columns.map((column) => h("td", {}, formatNumber(node.values[column], 4)))),
  );
  return h(
    "section",
    { class: "card" },
    h("h3", {}, `Sample rows of ${entity.name}`),
    h(
      "p",
      { class: "muted" },
      `${formatNumber(entity.rowCount)} rows, replaced ${formatDateTime(entity.updatedAt)}. The first ${rows.length} by CustomerId:`,
    ),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "data", "data-testid": "sample-rows" },
        h("thead", {}, h("tr", {}, columns.map((column) => h("th", {}, column)))),
        h("tbody", {}, rows),
      ),
    ),
  );
}

/** Render the results page of prediction `id`. */
export async function renderResults(page, id, session) {
  replaceChildren(page, h("p", { class: "muted" }, "Loading…"));
  const { prediction } = await graphql(RESULTS_QUERY, { id });
  if (!prediction) {
    replaceChildren(page, h("p", { class: "error" }, `No prediction has id ${id}.`));
    return;
  }

  const entity = prediction.outputEntity;
  const createSegment =
    session.canEdit && entity
      ? h("a", { class: "button", href: `#/predictions/${prediction.id}/new-segment` }, "Create segment")
      : null;
  const header = h(
    "header",
    { class: "page-header" },
    h(
      "div",
      {},
      h("h2", {}, prediction.name),
      h(
        "p",
        { class: "muted" },
        humanize(prediction.kind),
        " · ",
        statusBadge(prediction.status),
        " · output entity ",
        h("code", {}, prediction.outputEntityName),
      ),
    ),
    createSegment,
  );
  replaceChildren(page, header);

  if (prediction.error) {
    page.append(h("p", { class: "error", role: "alert" }, `The latest run failed: ${prediction.error}`));
  }
  if (!prediction.results) {
    page.append(h("p", {}, "No results yet: the prediction has not finished a run."));
    return;
  }

  page.append(
    ...[
      gradeSection(prediction.results),
      metricsSection(prediction.results.metrics),
      factorsSection(prediction.results.factors),
    ].filter(Boolean),
  );
  if (!entity) return;

  const distributionSlot = h("div");
  page.append(distributionSlot, sampleRowsSection(entity));
  distributionSlot.replaceWith(await distributionSection(prediction));
}
