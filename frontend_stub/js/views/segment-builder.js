// "Create segment" from a prediction: a rule builder whose attributes and operators
// come from the output entity, with a live size preview and errors beside fields.

import { graphql } from "../api.js";
import { formatNumber, h, replaceChildren } from "../dom.js";
import { errorSlot, showFieldErrors } from "../field-errors.js";
import {
  OPERATOR_LABELS,
  comparesText,
  inputType,
  typedValue,
  valueShape,
} from "../operators.js";
import { requestPreview } from "../preview.js";

const ENTITY_QUERY = `
  query SegmentSource($id: ID!) {
    prediction(id: $id) {
      id name
      outputEntity { name rowCount attributes { name dataType operators STATISTICS } }
    }
  }
`;
// Asked for only when the server has Attribute.statistics.
const STATISTICS_FIELDS = "statistics(topValues: 8) { min max topValues { value count } }";

const CREATE_MUTATION = `
  mutation CreateSegment($predictionId: ID!, $input: SegmentInput!) {
    createSegmentFromPrediction(predictionId: $predictionId, input: $input) {
      segment { id name memberCount }
      errors { field code message }
    }
  }
`;

// Wait this long after the last edit before asking for a preview, so typing a
// number sends one request instead of one per keystroke.
const PREVIEW_DELAY_MS = 300;

function preferredAttribute(attributes) {
  const score = attributes.find((attribute) => /score$/i.test(attribute.name));
  return score ?? attributes.find((attribute) => attribute.name !== "CustomerId") ?? attributes[0];
}

function newCondition(attribute) {
  return {
    attribute: attribute.name,
    operator: attribute.operators[0],
    value: "",
    low: "",
    high: "",
    list: "",
    caseInsensitive: false,
  };
}

/** Build the SegmentInput for the API from the form state. */
function segmentInput(state) {
  return {
    name: state.name,
    description: state.description.trim() || null,
    combinator: state.combinator,
    conditions: state.conditions.map((condition) => {
      const attribute = state.attributes.get(condition.attribute);
      const dataType = attribute?.dataType ?? "STRING";
      const shape = valueShape(condition.operator);
      const input = {
        attribute: condition.attribute,
        operator: condition.operator,
        caseInsensitive: comparesText(condition.operator, dataType) && condition.caseInsensitive,
      };
      if (shape === "single") input.value = typedValue(condition.value, dataType);
      if (shape === "count") input.value = typedValue(condition.value, "NUMBER");
      if (shape === "range") {
        input.values = [typedValue(condition.low, dataType), typedValue(condition.high, dataType)];
      }
      if (shape === "list") {
        input.values = condition.list
          .split(",")
          .map((item) => typedValue(item, dataType))
          .filter((item) => item !== null);
      }
      return input;
    }),
  };
}

function valueInput(field, type, value, label, onInput, list = undefined) {
  return h("input", {
    type,
    list,
    step: type === "number" ? "any" : undefined,
    value,
    "aria-label": label,
    "data-field": field,
    onInput: (event) => onInput(event.target.value),
  });
}

/** Render the inputs after the operator: none, one value, a range or a list. */
function valueInputs(index, condition, attribute, changed) {
  const shape = valueShape(condition.operator);
  const type = inputType(attribute.dataType);
  const prefix = `conditions.${index}`;
  const set = (key) => (value) => {
    condition[key] = value;
    changed();
  };

  if (shape === "none") return [];
  if (shape === "range") {
    return [
      valueInput(`${prefix}.values`, type, condition.low, `Condition ${index + 1} low value`, set("low")),
      h("span", {}, "and"),
      valueInput(`${prefix}.values`, type, condition.high, `Condition ${index + 1} high value`, set("high")),
    ];
  }
  if (shape === "list") {
    return [
      valueInput(`${prefix}.values`, "text", condition.list, `Condition ${index + 1} values, comma-separated`, set("list"), `values-${index}`),
    ];
  }
  if (shape === "count") {
    return [valueInput(`${prefix}.value`, "number", condition.value, `Condition ${index + 1} value`, set("value"))];
  }
  if (attribute.dataType === "BOOLEAN") {
    return [
      h(
        "select",
        {
          "aria-label": `Condition ${index + 1} value`,
          "data-field": `${prefix}.value`,
          onChange: (event) => set("value")(event.target.value),
        },
        ["", "true", "false"].map((option) =>
          h("option", { value: option, selected: condition.value === option }, option || "choose…"),
        ),
      ),
    ];
  }
  const list = type === "text" ? `values-${index}` : undefined;
  return [valueInput(`${prefix}.value`, type, condition.value, `Condition ${index + 1} value`, set("value"), list)];
}

/** Render a hint from the attribute's statistics: its range, or its most common values. */
function statisticsHint(index, attribute) {
  const statistics = attribute.statistics;
  if (!statistics) return null;
  if (statistics.min !== null && statistics.max !== null && statistics.min !== undefined) {
    return h("p", { class: "hint muted" }, `${attribute.name} ranges from ${formatNumber(statistics.min)} to ${formatNumber(statistics.max)}.`);
  }
  if (statistics.topValues.length === 0) return null;
  const common = statistics.topValues.map((item) => `${item.value} (${formatNumber(item.count)})`);
  return h(
    "p",
    { class: "hint muted" },
    `Most common: ${common.join(", ")}.`,
    h("datalist", { id: `values-${index}` }, statistics.topValues.map((item) => h("option", { value: String(item.value) }))),
  );
}

function conditionRow(index, state, changed, restructured) {
  const condition = state.conditions[index];
  const attribute = state.attributes.get(condition.attribute);
  const prefix = `conditions.${index}`;

  const attributeSelect = h(
    "select",
    {
      "aria-label": `Condition ${index + 1} attribute`,
      "data-field": `${prefix}.attribute`,
      onChange: (event) => {
        const chosen = state.attributes.get(event.target.value);
        Object.assign(condition, newCondition(chosen));
        restructured();
      },
    },
    [...state.attributes.values()].map((item) =>
      h("option", { value: item.name, selected: item.name === condition.attribute }, `${item.name} (${item.dataType.toLowerCase()})`),
    ),
  );
  const operatorSelect = h(
    "select",
    {
      "aria-label": `Condition ${index + 1} operator`,
      "data-field": `${prefix}.operator`,
      onChange: (event) => {
        condition.operator = event.target.value;
        restructured();
      },
    },
    attribute.operators.map((operator) =>
      h("option", { value: operator, selected: operator === condition.operator }, OPERATOR_LABELS[operator] ?? operator),
    ),
  );
  const caseToggle = comparesText(condition.operator, attribute.dataType)
    ? h(
        "label",
        { class: "inline" },
        h("input", {
          type: "checkbox",
          checked: condition.caseInsensitive,
          "data-field": `${prefix}.caseInsensitive`,
          onChange: (event) => {
            condition.caseInsensitive = event.target.checked;
            changed();
          },
        }),
        " ignore case",
      )
    : null;
  const remove =
    state.conditions.length > 1
      ? h(
          "button",
          {
            type: "button",
            class: "link",
            "aria-label": `Remove condition ${index + 1}`,
            onClick: () => {
              state.conditions.splice(index, 1);
              restructured();
            },
          },
          "Remove",
        )
      : null;

  return h(
    "li",
    { class: "condition", "data-testid": `condition-${index}` },
    h(
      "div",
      { class: "condition-inputs" },
      attributeSelect,
      operatorSelect,
      valueInputs(index, condition, attribute, changed),
      caseToggle,
      remove,
    ),
    statisticsHint(index, attribute),
    errorSlot(prefix),
    errorSlot(`${prefix}.attribute`),
    errorSlot(`${prefix}.operator`),
    errorSlot(`${prefix}.value`),
    errorSlot(`${prefix}.values`),
  );
}

function previewPanel() {
  const count = h("output", { "data-testid": "preview-count", "aria-live": "polite" }, "–");
  const note = h("p", { class: "muted" });
  const sample = h("ul", { class: "sample" });
  const panel = h(
    "aside",
    { class: "card preview", "data-testid": "preview", "data-state": "idle" },
    h("h3", {}, "Preview"),
    h("p", {}, count, " customers match"),
    note,
    sample,
  );
  return { panel, count, note, sample };
}

/** Render the rule builder for prediction `id`. */
export async function renderSegmentBuilder(page, id, session) {
  replaceChildren(page, h("p", { class: "muted" }, "Loading…"));
  const statistics = session.fields.attribute.has("statistics") ? STATISTICS_FIELDS : "";
  const { prediction } = await graphql(ENTITY_QUERY.replace("STATISTICS", statistics), { id });
  if (!prediction?.outputEntity) {
    replaceChildren(page, h("p", { class: "error" }, `Prediction ${id} has no output entity to build a segment from.`));
    return;
  }
  const entity = prediction.outputEntity;
  if (!session.canEdit) {
    replaceChildren(page, h("p", { class: "error" }, "Your role may read segments but not create them."));
    return;
  }

  const attributes = new Map(entity.attributes.map((attribute) => [attribute.name, attribute]));
  const state = {
    attributes,
    name: "",
    description: "",
    combinator: "AND",
    conditions: [newCondition(preferredAttribute(entity.attributes))],
  };

  const conditionList = h("ol", { class: "conditions" });
  const preview = previewPanel();
  let previewTimer = null;
  let previewSequence = 0;

  function schedulePreview() {
    clearTimeout(previewTimer);
    previewSequence += 1;
    preview.panel.dataset.state = "pending";
    previewTimer = setTimeout(runPreview, PREVIEW_DELAY_MS, previewSequence);
  }

  async function runPreview(sequence) {
    const outcome = await requestPreview(session, prediction.id, segmentInput(state)).catch((error) => ({
      failure: error.message,
    }));
    if (sequence !== previewSequence) return;

    preview.sample.replaceChildren();
    if (outcome === null) {
      preview.count.textContent = "–";
      preview.note.textContent = "This server cannot preview a segment; save it to see its size.";
      preview.panel.dataset.state = "unavailable";
      return;
    }
    if (outcome.failure || outcome.errors.length > 0) {
      preview.count.textContent = "–";
      preview.note.textContent = outcome.failure ?? "Fix the marked fields to see the size.";
      if (outcome.errors) showFieldErrors(form, outcome.errors);
      preview.panel.dataset.state = "invalid";
      return;
    }
    showFieldErrors(form, []);
    preview.count.textContent = formatNumber(outcome.memberCount);
    preview.count.dataset.count = String(outcome.memberCount);
    preview.note.textContent = `of ${formatNumber(entity.rowCount)} rows in ${entity.name}.`;
    preview.sample.append(...outcome.sample.map((customerId) => h("li", {}, customerId)));
    preview.panel.dataset.state = "ready";
  }

  function renderConditions() {
    conditionList.replaceChildren(
      ...state.conditions.map((_, index) => conditionRow(index, state, schedulePreview, restructured)),
    );
  }

  function restructured() {
    renderConditions();
    schedulePreview();
  }

  const nameInput = h("input", {
    id: "segment-name",
    required: true,
    maxlength: 128,
    "data-field": "name",
    onInput: (event) => {
      state.name = event.target.value;
    },
  });
  const descriptionInput = h("textarea", {
    id: "segment-description",
    rows: 2,
    "data-field": "description",
    onInput: (event) => {
      state.description = event.target.value;
    },
  });
  const combinatorSelect = h(
    "select",
    {
      id: "segment-combinator",
      "data-field": "combinator",
      onChange: (event) => {
        state.combinator = event.target.value;
        schedulePreview();
      },
    },
    h("option", { value: "AND" }, "all conditions (AND)"),
    h("option", { value: "OR" }, "any condition (OR)"),
  );
  const saveButton = h("button", { type: "submit" }, "Save segment");

  const form = h(
    "form",
    { class: "card segment-form", onSubmit: save, novalidate: true },
    h("label", { for: "segment-name" }, "Name"),
    nameInput,
    errorSlot("name"),
    h("label", { for: "segment-description" }, "Description (optional)"),
    descriptionInput,
    errorSlot("description"),
    h("label", { for: "segment-combinator" }, "Customers who match"),
    combinatorSelect,
    errorSlot("combinator"),
    conditionList,
    errorSlot("conditions"),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        onClick: () => {
          state.conditions.push(newCondition(preferredAttribute(entity.attributes)));
          restructured();
        },
      },
      "Add condition",
    ),
    errorSlot("*"),
    h("div", { class: "actions" }, saveButton, h("a", { href: `#/predictions/${prediction.id}` }, "Cancel")),
  );

  async function save(event) {
    event.preventDefault();
    saveButton.disabled = true;
    try {
      const { createSegmentFromPrediction: payload } = await graphql(CREATE_MUTATION, {
        predictionId: prediction.id,
        input: segmentInput(state),
      });
      if (payload.errors.length > 0) {
        showFieldErrors(form, payload.errors);
        form.querySelector('[aria-invalid="true"]')?.focus();
        return;
      }
      window.location.hash = `#/segments/${payload.segment.id}`;
    } catch (error) {
      showFieldErrors(form, [{ field: "*", code: error.code, message: error.message }]);
    } finally {
      saveButton.disabled = false;
    }
  }

  renderConditions();
  replaceChildren(
    page,
    h("h2", {}, "Create segment"),
    h(
      "p",
      { class: "muted" },
      "From the output entity ",
      h("code", {}, entity.name),
      " of ",
      h("a", { href: `#/predictions/${prediction.id}` }, prediction.name),
      ".",
    ),
    h("div", { class: "builder" }, form, preview.panel),
  );
  nameInput.focus();
  schedulePreview();
}
