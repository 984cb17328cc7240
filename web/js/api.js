// The console's only way to the server: the REST API with the session cookie (HttpOnly: this script
// never sees it) and, on every change, the session's CSRF token.

let csrf = "";
let onSignedOut = () => {};

export function setCsrf(token) {
  csrf = token;
}

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `the server answered ${status}`);
    this.status = status;
    this.field = (body && body.field) || null;
    this.body = body;
  }
}

// The JSON answer of `method path`; throws ApiError for any status but 2xx. A 401 (the session
// ended) also brings back the sign-in form.
export async function call(method, path, body) {
  return (await send(method, path, body, {})).answer;
}

export const get = (path) => call("GET", path);

// As call(), for the resources whose version the server tags (ETag): `tag`, the ETag of an earlier
// answer, goes as If-Match, so that a change made since (by hand or by someone else) is refused
// (409) instead of overwritten. Returns {answer, tag}: the answer and its ETag (null without one).
export async function tagged(method, path, body, tag) {
  const {answer, response} = await send(method, path, body, tag ? {"If-Match": tag} : {});
  return {answer, tag: response.headers.get("ETag")};
}

async function send(method, path, body, extra) {
  const headers = {"Accept": "application/json", ...extra};
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  let answer = null;
  if ((response.headers.get("Content-Type") || "").startsWith("application/json")) {
    answer = await response.json();
  }
  if (!response.ok) {
    const error = new ApiError(response.status, answer);
    if (response.status === 401 && !path.startsWith("/api/v1/auth/")) onSignedOut(error.message);
    throw error;
  }
  return {answer, response};
}
