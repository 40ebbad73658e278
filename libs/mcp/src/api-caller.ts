/** One call to Orchestron's HTTP API, as the MCP tools make it. */
export interface ApiRequest {
  readonly method: 'GET' | 'POST';
  /** The path with its query string, each part already encoded (see `apiPath`). */
  readonly path: string;
  readonly body?: unknown;
}

/** The API's answer: its status and its JSON body (`{ …, agent_contract }`, or `{ error, agent_contract }`). */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * How the MCP server reaches the API. Every tool is a call of the HTTP API made with the caller's own key, so its
 * roles, tenant checks, validation, limits and error codes are the API's, by construction: the MCP server holds
 * no rule of its own to drift from them.
 */
export type ApiCaller = (request: ApiRequest) => Promise<ApiAnswer>;

/** `/v1/runs/<id>/…` with every segment encoded: an id such as `../keys` stays one segment and cannot reach another route. */
export function apiPath(segments: readonly string[], query: Readonly<Record<string, unknown>> = {}): string {
  const path = `/${segments.map((segment) => encodeURIComponent(segment)).join('/')}`;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query))
    if (value !== undefined && value !== null) params.set(name, String(value));
  const search = params.toString();
  return search === '' ? path : `${path}?${search}`;
}

/** A caller over the network, for `orchestron mcp` (stdio): the API at `baseUrl`, with `apiKey` as the bearer. */
export function fetchCaller(
  baseUrl: string,
  apiKey: string | null,
  fetchImpl: (url: string, init: RequestInit) => Promise<Response> = fetch,
): ApiCaller {
  return async ({ method, path, body }) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (apiKey !== null) headers['authorization'] = `Bearer ${apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetchImpl(`${baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: parseBody(text, response.status) };
  };
}

function parseBody(text: string, status: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {
      error: { code: 'SERVER.UNREADABLE', message: `the server answered ${status} with a body that is not JSON` },
      agent_contract: { retryable: status >= 500, next_actions: [] },
    };
  }
}
