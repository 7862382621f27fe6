// The one way this app talks to the server: GraphQL over POST /graphql, plus the
// CSV export, both with the bearer token from the session.

import { readToken } from "./session.js";

/** A failed request; `code` is the GraphQL extensions.code, or NETWORK / HTTP. */
export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.name = "ApiError";
    this.code = code;
  }

  get isAuthentication() {
    return this.code === "UNAUTHENTICATED";
  }
}

function authorizationHeaders() {
  const token = readToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function send(url, options) {
  try {
    return await fetch(url, options);
  } catch (error) {
    throw new ApiError(`the server could not be reached: ${error.message}`, "NETWORK");
  }
}

/** Run a GraphQL document and return its data; raise ApiError on any GraphQL error. */
export async function graphql(query, variables = {}) {
  const response = await send("/graphql", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      ...authorizationHeaders(),
    },
    body: JSON.stringify({ query, variables }),
  });

  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`the server returned HTTP ${response.status} without a JSON body`, "HTTP");
  }

  if (body.errors?.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, first.extensions?.code ?? "GRAPHQL");
  }
  return body.data;
}

/** Download `url` with the bearer token and save it as `filename`. */
export async function downloadFile(url, filename) {
  const response = await send(url, { headers: authorizationHeaders() });
  if (!response.ok) {
    const detail = (await response.text()).slice(0, 300);
    const code = response.status === 401 ? "UNAUTHENTICATED" : "HTTP";
    throw new ApiError(`export failed with HTTP ${response.status}: ${detail}`, code);
  }

  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
}
