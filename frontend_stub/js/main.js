// Entry point: sign-in, the navigation bar and the hash router (#/predictions/1 …),
// so the server only ever serves index.html at /.

import { ApiError, graphql } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { schemaFields } from "./features.js";
import { clearToken, readToken } from "./session.js";
import { renderPredictions } from "./views/predictions.js";
import { renderResults } from "./views/results.js";
import { renderSegmentBuilder } from "./views/segment-builder.js";
import { renderSegmentDetail, renderSegments } from "./views/segments.js";
import { renderSignIn } from "./views/sign-in.js";

const VIEWER_QUERY = `query Viewer { viewer { tokenName role } }`;
const TOKEN_CHECK_QUERY = `query TokenCheck { predictions { id } }`;

const ROUTES = [
  [/^#\/predictions\/([^/]+)\/new-segment$/, renderSegmentBuilder],
  [/^#\/predictions\/([^/]+)$/, renderResults],
  [/^#\/segments\/([^/]+)$/, renderSegmentDetail],
  [/^#\/segments$/, renderSegments],
  [/^#\/predictions$/, renderPredictions],
];

const view = document.getElementById("view");
const nav = document.getElementById("nav");

/**
 * Find out who the token belongs to. Servers without the `viewer` query leave the
 * role unknown: the app then shows every action and the server rejects what the
 * role may not do.
 */
async function loadSession() {
  const fields = await schemaFields();
  if (fields.query.has("viewer")) {
    const { viewer } = await graphql(VIEWER_QUERY);
    return { role: viewer.role, tokenName: viewer.tokenName, fields };
  }
  await graphql(TOKEN_CHECK_QUERY);
  return { role: null, tokenName: null, fields };
}

function canEdit(session) {
  return session.role !== "VIEWER";
}

function renderNav(session) {
  const links = [
    h("a", { href: "#/predictions" }, "Predictions"),
    h("a", { href: "#/segments" }, "Segments"),
    h("a", { href: "/graphql" }, "GraphiQL"),
  ];
  const who = session
    ? h(
        "span",
        { class: "who", "data-testid": "role" },
        session.role ? session.role.toLowerCase() : "role unknown",
        session.tokenName ? ` · ${session.tokenName}` : "",
      )
    : null;
  const signOut = session
    ? h("button", { type: "button", class: "link", onClick: signOutAndReload }, "Sign out")
    : null;
  replaceChildren(nav, ...(session ? links : []), who, signOut);
}

function signOutAndReload() {
  clearToken();
  window.location.hash = "";
  window.location.reload();
}

function showError(error) {
  replaceChildren(view, h("p", { class: "error", role: "alert" }, error.message));
}

let session = null;

async function route() {
  if (!readToken()) {
    session = null;
    renderNav(null);
    renderSignIn(view, () => {
      window.location.hash = "#/predictions";
      route();
    });
    return;
  }

  try {
    session ??= await loadSession();
  } catch (error) {
    if (error instanceof ApiError && error.isAuthentication) {
      clearToken();
      renderNav(null);
      renderSignIn(view, () => route(), error.message);
      return;
    }
    renderNav(null);
    showError(error);
    return;
  }
  renderNav(session);

  const hash = window.location.hash || "#/predictions";
  const match = ROUTES.map(([pattern, render]) => [hash.match(pattern), render]).find(
    ([found]) => found,
  );
  if (!match) {
    replaceChildren(view, h("p", {}, "No page here. ", h("a", { href: "#/predictions" }, "See the predictions.")));
    return;
  }

  // Each page renders into a fresh element, so a slow response for a page the user
  // has left writes into a detached node instead of the current page.
  const page = h("section", { class: "page" });
  view.replaceChildren(page);
  const [found, render] = match;
  try {
    await render(page, decodeURIComponent(found[1] ?? ""), { ...session, canEdit: canEdit(session) });
  } catch (error) {
    if (error instanceof ApiError && error.isAuthentication) {
      clearToken();
      session = null;
      route();
      return;
    }
    replaceChildren(page, h("p", { class: "error", role: "alert" }, error.message));
  }
}

window.addEventListener("hashchange", route);
route();
