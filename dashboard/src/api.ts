import type { DashboardQuery, DashboardQueryVariables, DeleteUserMutation, DeletionQuery, JourneyQuery } from "./operations";
import documents from "./operations.graphql?raw";

/*
 * The dashboard's calls to the API: the operations of operations.graphql (their types generated from schema.graphql),
 * with the key the user pasted. An error is thrown as the API words it.
 */

/** An answer the API refused, with its words and code. */
export class ApiError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

const KEY = "analytics.secretKey";

/** The key, kept in this tab's sessionStorage only: never in the URL or a cookie. */
export const savedKey = () => sessionStorage.getItem(KEY);
export const saveKey = (key: string) => sessionStorage.setItem(KEY, key);
export const forgetKey = () => sessionStorage.removeItem(KEY);

async function call<T>(operationName: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${savedKey() ?? ""}` },
    body: JSON.stringify({ query: documents, operationName, variables }),
  });
  const body = (await res.json().catch(() => null)) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] } | null;
  const error = body?.errors?.[0];
  if (error || !body?.data) throw new ApiError(error?.message ?? `HTTP ${res.status}`, error?.extensions?.code ?? `HTTP_${res.status}`);
  return body.data;
}

export const dashboard = (range: DashboardQueryVariables["range"]) => call<DashboardQuery>("Dashboard", { range });
export const journey = (userId: string) => call<JourneyQuery>("Journey", { userId });
export const deleteUser = (userId: string) => call<DeleteUserMutation>("DeleteUser", { userId });
export const deletion = (id: string) => call<DeletionQuery>("Deletion", { id });
