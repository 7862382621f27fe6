// How each operator reads in the rule builder and which value inputs it needs.

export const OPERATOR_LABELS = {
  EQ: "equals",
  NE: "does not equal",
  GT: "is greater than",
  GTE: "is at least",
  LT: "is less than",
  LTE: "is at most",
  BETWEEN: "is between",
  IN: "is one of",
  NOT_IN: "is none of",
  IS_NULL: "is missing",
  IS_NOT_NULL: "is present",
  CONTAINS: "contains",
  STARTS_WITH: "starts with",
  ENDS_WITH: "ends with",
  IS_EMPTY: "is empty",
  IS_NOT_EMPTY: "is not empty",
  IS_TRUE: "is true",
  IS_FALSE: "is false",
  BEFORE: "is before",
  AFTER: "is after",
  IN_LAST_DAYS: "is in the last N days",
  NOT_IN_LAST_DAYS: "is not in the last N days",
  TOP_PERCENT: "is in the top N percent",
  BOTTOM_PERCENT: "is in the bottom N percent",
};

const WITHOUT_VALUE = new Set([
  "IS_NULL",
  "IS_NOT_NULL",
  "IS_EMPTY",
  "IS_NOT_EMPTY",
  "IS_TRUE",
  "IS_FALSE",
]);
const LIST_OPERATORS = new Set(["IN", "NOT_IN"]);
const COUNT_OPERATORS = new Set(["IN_LAST_DAYS", "NOT_IN_LAST_DAYS", "TOP_PERCENT", "BOTTOM_PERCENT"]);
const TEXT_OPERATORS = new Set(["EQ", "NE", "IN", "NOT_IN", "CONTAINS", "STARTS_WITH", "ENDS_WITH"]);

/** The value input an operator needs: none, range, list, count or single. */
export function valueShape(operator) {
  if (WITHOUT_VALUE.has(operator)) return "none";
  if (operator === "BETWEEN") return "range";
  if (LIST_OPERATORS.has(operator)) return "list";
  if (COUNT_OPERATORS.has(operator)) return "count";
  return "single";
}

/** True when the operator compares text, so ignoring case means something. */
export function comparesText(operator, dataType) {
  return dataType === "STRING" && TEXT_OPERATORS.has(operator);
}

/** The HTML input type for one value of an attribute. */
export function inputType(dataType) {
  return { NUMBER: "number", DATE: "date", DATETIME: "datetime-local" }[dataType] ?? "text";
}

/**
 * Convert what was typed into the JSON value the API expects. Text that is not a
 * number stays text for a NUMBER attribute, so the server's error names it.
 */
export function typedValue(raw, dataType) {
  const text = String(raw ?? "").trim();
  if (text === "") return null;
  if (dataType === "NUMBER") {
    const number = Number(text);
    return Number.isFinite(number) ? number : text;
  }
  if (dataType === "BOOLEAN") {
    if (text === "true") return true;
    if (text === "false") return false;
  }
  return text;
}

/** Describe a stored condition in words, e.g. "ChurnScore is at least 0.7". */
export function describeCondition(condition) {
  const label = OPERATOR_LABELS[condition.operator] ?? condition.operator;
  const shape = valueShape(condition.operator);
  let operand = "";
  if (shape === "range") operand = ` ${condition.values?.[0]} and ${condition.values?.[1]}`;
  else if (shape === "list") operand = ` ${(condition.values ?? []).join(", ")}`;
  else if (shape !== "none") operand = ` ${condition.value}`;
  const ignoringCase = condition.caseInsensitive ? " (ignoring case)" : "";
  return `${condition.attribute} ${label}${operand}${ignoringCase}`;
}
