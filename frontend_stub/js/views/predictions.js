// The list of predictions with their status and grade.

import { graphql } from "../api.js";
import { formatDateTime, formatNumber, h, humanize, replaceChildren } from "../dom.js";

const PREDICTIONS_QUERY = `
  query Predictions {
    predictions {
      id name kind status error updatedAt
      results { grade }
      outputEntity { name rowCount }
    }
  }
`;

/** Render a status as a badge whose class carries its color. */
export function statusBadge(status) {
  return h("span", { class: `badge status-${status.toLowerCase()}` }, humanize(status));
}

/** Render a grade letter, or a dash before the first successful run. */
export function gradeBadge(grade) {
  return grade
    ? h("span", { class: `grade grade-${grade.toLowerCase()}`, title: `Grade ${grade}` }, grade)
    : h("span", { class: "muted" }, "–");
}

function predictionRow(prediction) {
  return h(
    "tr",
    { "data-testid": `prediction-${prediction.id}` },
    h("td", {}, h("a", { href: `#/predictions/${prediction.id}` }, prediction.name)),
    h("td", {}, humanize(prediction.kind)),
    h(
      "td",
      {},
      statusBadge(prediction.status),
      prediction.error ? h("div", { class: "field-error" }, prediction.error) : null,
    ),
    h("td", {}, gradeBadge(prediction.results?.grade)),
    h("td", {}, prediction.outputEntity?.name ?? "–"),
    h("td", { class: "number" }, formatNumber(prediction.outputEntity?.rowCount)),
    h("td", {}, formatDateTime(prediction.updatedAt)),
  );
}

/** Render every prediction as a table row that links to its results. */
export async function renderPredictions(page) {
  replaceChildren(page, h("h2", {}, "Predictions"), h("p", { class: "muted" }, "Loading…"));
  const { predictions } = await graphql(PREDICTIONS_QUERY);

  if (predictions.length === 0) {
    replaceChildren(
      page,
      h("h2", {}, "Predictions"),
      h("p", {}, "No predictions yet. Configure and run one, or start the server with --demo."),
    );
    return;
  }

  const table = h(
    "table",
    { class: "data", "data-testid": "predictions" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Name", "Kind", "Status", "Grade", "Output entity", "Rows", "Updated"].map((label) =>
          h("th", {}, label),
        ),
      ),
    ),
    h("tbody", {}, predictions.map(predictionRow)),
  );
  replaceChildren(page, h("h2", {}, "Predictions"), table);
}
