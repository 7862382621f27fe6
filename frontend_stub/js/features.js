// Optional parts of the API. The app asks the schema which of them the server has
// and shows an action only when its field exists, so it runs against older servers.

import { graphql } from "./api.js";

const ROOT_FIELDS = `
  query RootFields {
    query: __type(name: "Query") { fields { name } }
    mutation: __type(name: "Mutation") { fields { name } }
    attribute: __type(name: "Attribute") { fields { name } }
  }
`;

let cached = null;

/** Return the sets of Query, Mutation and Attribute field names, read once per page load. */
export function schemaFields() {
  cached ??= graphql(ROOT_FIELDS).then((data) => ({
    query: new Set((data.query?.fields ?? []).map((field) => field.name)),
    mutation: new Set((data.mutation?.fields ?? []).map((field) => field.name)),
    attribute: new Set((data.attribute?.fields ?? []).map((field) => field.name)),
  }));
  cached.catch(() => {
    cached = null;
  });
  return cached;
}
