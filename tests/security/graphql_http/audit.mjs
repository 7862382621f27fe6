// Run the graphql-http server audits against GRAPHQL_URL and print the results
// as JSON: one object per audit with its name, status and reason.
// Every request carries `Authorization: Bearer $GRAPHQL_TOKEN`, because the
// server requires it on GET queries.
import { auditServer } from "graphql-http";

const url = process.env.GRAPHQL_URL;
const token = process.env.GRAPHQL_TOKEN;
if (!url || !token) {
  console.error("set GRAPHQL_URL and GRAPHQL_TOKEN");
  process.exit(2);
}

function fetchWithToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: fetchWithToken });
const summary = results.map((result) => ({
  name: result.name,
  status: result.status,
  reason: result.status === "ok" ? null : result.reason,
}));
console.log(JSON.stringify(summary));
