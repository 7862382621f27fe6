// Placing InputError messages next to the inputs they concern. Inputs and error
// slots carry data-field with the API's path (name, conditions.0.value, …).

import { h } from "./dom.js";

/** An empty error slot for the input whose API path is `field`. */
export function errorSlot(field) {
  return h("p", { class: "field-error", "data-error-for": field, role: "alert" });
}

function clearErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.replaceChildren();
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/**
 * Find the slot for `field`: the slot whose path is the longest prefix of it, so
 * conditions.1.values.0 lands at conditions.1.values, or at conditions.1 when the
 * form has no nearer slot. Paths that match no slot go to the form-wide slot.
 */
function slotFor(form, field) {
  const parts = String(field).split(".");
  for (let length = parts.length; length > 0; length -= 1) {
    const path = parts.slice(0, length).join(".");
    const slot = form.querySelector(`[data-error-for="${CSS.escape(path)}"]`);
    if (slot) return [slot, path];
  }
  return [form.querySelector('[data-error-for="*"]'), null];
}

/** Show `errors` ({field, code, message}) beside their inputs; clear earlier ones. */
export function showFieldErrors(form, errors) {
  clearErrors(form);
  for (const error of errors) {
    const [slot, path] = slotFor(form, error.field);
    if (!slot) continue;
    slot.append(h("span", { "data-code": error.code }, error.message));
    if (path) {
      const input = form.querySelector(`[data-field="${CSS.escape(path)}"]`);
      input?.setAttribute("aria-invalid", "true");
    }
  }
}
