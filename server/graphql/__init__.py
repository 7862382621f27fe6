"""The GraphQL API: types, queries, mutations, permissions and error handling."""
