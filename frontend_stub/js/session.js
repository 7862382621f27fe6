// The API token lives in sessionStorage: it survives reloads of this tab and is
// gone when the tab closes. GraphiQL reads the same key to fill in its headers.

const TOKEN_KEY = "lookahead.token";

export function readToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}
