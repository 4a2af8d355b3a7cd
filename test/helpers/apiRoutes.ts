/**
 * The admin API's routes (pools, variables, connections, users and their
 * tokens) as the OpenAPI document names them under /api/v1: admin.test.ts
 * checks each is documented as an admin route, api.test.ts that the document
 * lists exactly the routes the API serves.
 */
export const ADMIN_ROUTES = [
  ["get", "/pools"],
  ["post", "/pools"],
  ["get", "/pools/{name}"],
  ["patch", "/pools/{name}"],
  ["delete", "/pools/{name}"],
  ["get", "/variables"],
  ["post", "/variables"],
  ["get", "/variables/{key}"],
  ["patch", "/variables/{key}"],
  ["delete", "/variables/{key}"],
  ["get", "/connections"],
  ["post", "/connections"],
  ["get", "/connections/{connId}"],
  ["patch", "/connections/{connId}"],
  ["delete", "/connections/{connId}"],
  ["get", "/users"],
  ["post", "/users"],
  ["patch", "/users/{username}"],
  ["delete", "/users/{username}"],
  ["get", "/users/{username}/tokens"],
  ["post", "/users/{username}/tokens"],
  ["delete", "/users/{username}/tokens/{id}"],
] as const;
