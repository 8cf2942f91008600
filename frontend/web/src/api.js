// The jobs, problems and languages API, called with the signed-in API key. The key is
// kept in sessionStorage (gone when the tab closes) and sent only as a header.
const KEY = "codeexec.apiKey";

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, body) {
    const what = body && typeof body.error === "string" ? body.error : `HTTP ${status}`;
    super(body && body.detail ? `${what}: ${body.detail}` : what);
    this.status = status;
    this.body = body;
  }
}

export function authHeaders(extra = {}) {
  const key = session.key();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

/** fetch() a path of this service with the key; JSON in and out; ApiError unless 2xx. */
export async function api(path, { method = "GET", json, body, headers = {} } = {}) {
  const init = { method, headers: authHeaders(headers), credentials: "omit", cache: "no-store" };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** The job's event stream (Server-Sent Events), with the key in a header. */
export function openEvents(id) {
  return (headers) =>
    fetch(`/api/v1/submissions/${encodeURIComponent(id)}/events`, {
      headers: authHeaders(headers),
      credentials: "omit",
      cache: "no-store",
    });
}
