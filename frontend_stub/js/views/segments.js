// The segments page (list with member counts) and one segment's page: its rule,
// paginated members, and the refresh, delete and CSV export actions.

import { ApiError, downloadFile, graphql } from "../api.js";
import { formatDateTime, formatNumber, h, replaceChildren } from "../dom.js";
import { describeCondition } from "../operators.js";
import { CursorTrail, pager } from "../pager.js";

const PAGE_SIZE = 20;

const SEGMENTS_QUERY = `
  query Segments($first: Int, $after: String) {
    segments(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name entityName memberCount createdAt lastEvaluatedAt } }
    }
  }
`;

const SEGMENT_QUERY = `
  query Segment($id: ID!, $first: Int, $after: String) {
    segment(id: $id) {
      id name description entityName definition memberCount createdAt lastEvaluatedAt predictionId
      members(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { customerId region country city marketSegment } }
      }
    }
  }
`;

const REFRESH_MUTATION = `
  mutation RefreshSegment($id: ID!) {
    refreshSegment(id: $id) {
      segment { id memberCount lastEvaluatedAt }
      errors { field code message }
    }
  }
`;

const DELETE_MUTATION = `
  mutation DeleteSegment($id: ID!) {
    deleteSegment(id: $id) { errors { field code message } }
  }
`;

function headerRow(labels) {
  return h("thead", {}, h("tr", {}, labels.map((label) => h("th", {}, label))));
}

/** Render the list of segments, a page at a time. */
export async function renderSegments(page) {
  const trail = new CursorTrail();
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replaceChildren(page, h("h2", {}, "Segments"), body);

  async function load() {
    const { segments } = await graphql(SEGMENTS_QUERY, { first: PAGE_SIZE, after: trail.current });
    if (segments.totalCount === 0) {
      replaceChildren(body, h("p", {}, "No segments yet. Open a prediction's results and choose Create segment."));
      return;
    }
    const rows = segments.edges.map(({ node }) =>
      h(
        "tr",
        { "data-testid": `segment-${node.id}` },
        h("td", {}, h("a", { href: `#/segments/${node.id}` }, node.name)),
        h("td", {}, h("code", {}, node.entityName)),
        h("td", { class: "number", "data-testid": "member-count" }, formatNumber(node.memberCount)),
        h("td", {}, formatDateTime(node.createdAt)),
        h("td", {}, formatDateTime(node.lastEvaluatedAt)),
      ),
    );
    replaceChildren(
      body,
      h("p", { class: "muted" }, `${formatNumber(segments.totalCount)} segments.`),
      h(
        "table",
        { class: "data", "data-testid": "segments" },
        headerRow(["Name", "Entity", "Members", "Created", "Last evaluated"]),
        h("tbody", {}, rows),
      ),
      pager(trail, segments.pageInfo, () => load().catch(showFailure), "Segment pages"),
    );
  }

  function showFailure(error) {
    replaceChildren(body, h("p", { class: "error", role: "alert" }, error.message));
  }

  await load();
}

function membersTable(members) {
  const rows = members.edges.map(({ node }) =>
    h(
      "tr",
      {},
      h("td", {}, node.customerId),
      h("td", {}, node.region ?? "–"),
      h("td", {}, node.country ?? "–"),
      h("td", {}, node.city ?? "–"),
      h("td", {}, node.marketSegment ?? "–"),
    ),
  );
  return h(
    "table",
    { class: "data", "data-testid": "members" },
    headerRow(["CustomerId", "Region", "Country", "City", "Market segment"]),
    h("tbody", {}, rows),
  );
}

function ruleSummary(definition) {
  const conditions = definition?.conditions ?? [];
  if (conditions.length === 0 && definition?.rules) {
    // Rules nest groups of conditions; the JSON shows them without a second renderer.
    return h(
      "div",
      { "data-testid": "rule" },
      h("p", {}, `Customers selected by ${definition.rules.length} rules:`),
      h("pre", { class: "definition" }, JSON.stringify(definition.rules, null, 2)),
    );
  }
  const joiner = definition?.combinator === "OR" ? "any of" : "all of";
  return h(
    "div",
    { "data-testid": "rule" },
    h("p", {}, `Customers matching ${joiner}:`),
    h("ul", {}, conditions.map((condition) => h("li", {}, describeCondition(condition)))),
  );
}

function csvFilename(segment) {
  const slug = segment.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `${slug || "segment"}-${segment.id}-members.csv`;
}

function actionButtons(segment, session, message, reload) {
  const run = (button, action) => async () => {
    button.disabled = true;
    message.className = "muted";
    message.textContent = "";
    try {
      await action();
    } catch (error) {
      message.className = "error";
      message.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  };
  const showErrors = (errors) => {
    message.className = "error";
    message.textContent = errors.map((error) => error.message).join(" ");
  };

  const exportButton = h("button", { type: "button", class: "secondary" }, "Export CSV");
  exportButton.addEventListener(
    "click",
    run(exportButton, async () => {
      await downloadFile(`/segments/${encodeURIComponent(segment.id)}/members.csv`, csvFilename(segment));
      message.textContent = "Export downloaded.";
    }),
  );
  const buttons = [exportButton];
  if (!session.canEdit) return buttons;

  if (session.fields.mutation.has("refreshSegment")) {
    const refresh = h("button", { type: "button", class: "secondary" }, "Refresh");
    refresh.addEventListener(
      "click",
      run(refresh, async () => {
        const { refreshSegment: payload } = await graphql(REFRESH_MUTATION, { id: segment.id });
        if (payload.errors.length > 0) return showErrors(payload.errors);
        await reload(`Refreshed: ${formatNumber(payload.segment.memberCount)} members.`);
      }),
    );
    buttons.push(refresh);
  }

  if (session.fields.mutation.has("deleteSegment")) {
    const remove = h("button", { type: "button", class: "danger" }, "Delete");
    remove.addEventListener(
      "click",
      run(remove, async () => {
        if (!window.confirm(`Delete the segment "${segment.name}"? This cannot be undone.`)) return;
        const { deleteSegment: payload } = await graphql(DELETE_MUTATION, { id: segment.id });
        if (payload.errors.length > 0) return showErrors(payload.errors);
        window.location.hash = "#/segments";
      }),
    );
    buttons.push(remove);
  }
  return buttons;
}

/** Render segment `id` with its members, a page at a time. */
export async function renderSegmentDetail(page, id, session) {
  const trail = new CursorTrail();
  const message = h("p", { class: "muted", role: "status", "data-testid": "segment-message" });
  replaceChildren(page, h("p", { class: "muted" }, "Loading…"));

  async function load(notice = "") {
    const { segment } = await graphql(SEGMENT_QUERY, { id, first: PAGE_SIZE, after: trail.current });
    if (!segment) {
      replaceChildren(page, h("p", { class: "error" }, `No segment has id ${id}. `, h("a", { href: "#/segments" }, "See all segments.")));
      return;
    }
    message.textContent = notice;
    const source = segment.predictionId
      ? [" from ", h("a", { href: `#/predictions/${segment.predictionId}` }, "its prediction")]
      : [];
    replaceChildren(
      page,
      h(
        "header",
        { class: "page-header" },
        h(
          "div",
          {},
          h("h2", {}, segment.name),
          h("p", { class: "muted" }, "On ", h("code", {}, segment.entityName), ...source, "."),
        ),
        h("div", { class: "actions" }, actionButtons(segment, session, message, load)),
      ),
      message,
      segment.description ? h("p", {}, segment.description) : null,
      h(
        "section",
        { class: "card" },
        h("p", {}, h("strong", { "data-testid": "segment-member-count" }, formatNumber(segment.memberCount)), " members, evaluated ", formatDateTime(segment.lastEvaluatedAt), "."),
        ruleSummary(segment.definition),
      ),
      h(
        "section",
        { class: "card" },
        h("h3", {}, "Members"),
        membersTable(segment.members),
        pager(trail, segment.members.pageInfo, () => load().catch(showFailure), "Member pages"),
      ),
    );
  }

  function showFailure(error) {
    message.className = "error";
    message.textContent = error instanceof ApiError ? error.message : String(error);
  }

  await load();
}
