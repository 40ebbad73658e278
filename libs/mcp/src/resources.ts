import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { ListResourcesResult, ReadResourceResult, ResourceTemplate } from '@modelcontextprotocol/sdk/types.js';
import { apiPath } from './api-caller.ts';
import type { ApiCaller } from './api-caller.ts';

const RUNS = 'orchestron://runs/';
const DEFINITIONS = 'orchestron://definitions/';
/** How many recent runs resources/list names (the rest are reachable by the template). */
const LISTED_RUNS = 50;

export const RESOURCE_TEMPLATES: ResourceTemplate[] = [
  {
    uriTemplate: `${RUNS}{runId}`,
    name: 'run',
    title: 'A run',
    description: 'A run with its steps and agent_contract (GET /v1/runs/{id})',
    mimeType: 'application/json',
  },
  {
    uriTemplate: `${DEFINITIONS}{definitionId}`,
    name: 'definition',
    title: 'A definition',
    description: 'The latest version of a definition (GET /v1/definitions/{id})',
    mimeType: 'application/json',
  },
];

/** The key's recent runs and its definitions; what the key may not read is simply not listed. */
export async function listResources(api: ApiCaller): Promise<ListResourcesResult> {
  const [runs, definitions] = await Promise.all([
    api({ method: 'GET', path: apiPath(['v1', 'runs'], { limit: LISTED_RUNS }) }),
    api({ method: 'GET', path: '/v1/definitions' }),
  ]);
  const items = (answer: { status: number; body: unknown }, field: string): Record<string, unknown>[] =>
    answer.status === 200 ? (((answer.body as Record<string, unknown>)[field] ?? []) as Record<string, unknown>[]) : [];
  return {
    resources: [
      ...items(runs, 'runs').map((run) => ({
        uri: `${RUNS}${encodeURIComponent(String(run['id']))}`,
        name: `run ${String(run['id'])}`,
        description: `${String(run['definitionId'] ?? '')}: ${String(run['status'] ?? '')}`,
        mimeType: 'application/json',
      })),
      ...items(definitions, 'definitions').map((definition) => ({
        uri: `${DEFINITIONS}${encodeURIComponent(String(definition['id']))}`,
        name: `definition ${String(definition['id'])}`,
        mimeType: 'application/json',
      })),
    ],
  };
}

export async function readResource(api: ApiCaller, uri: string): Promise<ReadResourceResult> {
  const path = pathOf(uri);
  const answer = await api({ method: 'GET', path });
  if (answer.status !== 200)
    throw new McpError(ErrorCode.InvalidParams, `${uri}: the API answered ${answer.status}`, answer.body);
  return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(answer.body) }] };
}

function pathOf(uri: string): string {
  for (const [prefix, route] of [
    [RUNS, 'runs'],
    [DEFINITIONS, 'definitions'],
  ] as const) {
    if (!uri.startsWith(prefix)) continue;
    const id = decoded(uri.slice(prefix.length));
    if (id !== undefined && id.length > 0 && id.length <= 128) return apiPath(['v1', route, id]);
  }
  throw new McpError(
    ErrorCode.InvalidParams,
    `unknown resource ${JSON.stringify(uri.slice(0, 200))}: orchestron://runs/{id} or orchestron://definitions/{id}`,
  );
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
