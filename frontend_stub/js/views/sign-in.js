// The sign-in form: the token is checked against the API before it is kept.

import { ApiError, graphql } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { clearToken, storeToken } from "../session.js";

const CHECK_QUERY = `query TokenCheck { predictions { id } }`;

/** Render the sign-in form into `container`; call `onSignedIn` once a token works. */
export function renderSignIn(container, onSignedIn, message = null) {
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    required: true,
    placeholder: "lka_…",
    "aria-describedby": "token-error",
  });
  const error = h("p", { id: "token-error", class: "field-error", role: "alert" }, message ?? "");
  const submit = h("button", { type: "submit" }, "Sign in");

  const form = h(
    "form",
    { class: "card sign-in", onSubmit: signIn },
    h("h2", {}, "Sign in"),
    h(
      "p",
      { class: "muted" },
      "Paste an API token. Create one with ",
      h("code", {}, "lookahead tokens create --role viewer"),
      "; the demo prints one per role when it starts.",
    ),
    h("label", { for: "token" }, "API token"),
    input,
    error,
    submit,
  );

  async function signIn(event) {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = "";
    storeToken(input.value);
    try {
      await graphql(CHECK_QUERY);
    } catch (failure) {
      clearToken();
      error.textContent =
        failure instanceof ApiError && failure.isAuthentication
          ? `This token was not accepted: ${failure.message}`
          : failure.message;
      submit.disabled = false;
      input.focus();
      return;
    }
    onSignedIn();
  }

  replaceChildren(container, form);
  input.focus();
}
