// Start GraphiQL from the local bundle. When the Lookahead app in this tab holds a
// token, its Authorization header is filled in; headers are never persisted.

import { readToken } from "./session.js";

const DEFAULT_QUERY = `# Send your API token in the Headers pane below:
# {"Authorization": "Bearer lka_…"}
query Predictions {
  predictions {
    id
    name
    status
    results { grade }
    outputEntity { name rowCount attributes { name dataType } }
  }
}
`;

const token = readToken();
const fetcher = window.GraphiQL.createFetcher({ url: "/graphql" });
const root = window.ReactDOM.createRoot(document.getElementById("graphiql"));
root.render(
  window.React.createElement(window.GraphiQL, {
    fetcher,
    defaultQuery: DEFAULT_QUERY,
    defaultHeaders: token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : undefined,
    defaultEditorToolsVisibility: "headers",
    shouldPersistHeaders: false,
  }),
);
