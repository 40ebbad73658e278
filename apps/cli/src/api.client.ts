import { ApiError, ServerUnreachableError } from './cli.errors.ts';
import type {
  ActionRequest,
  AgentContract,
  EventView,
  ForkRequest,
  Issue,
  SendEventRequest,
  SendEventResult,
  KeyView,
  LockView,
  NewKeyRequest,
  OperatorAction,
  RunSummary,
  RunView,
  StartRunRequest,
} from './api.types.ts';
import type { AuditEventsPage, AuditSearchQuery } from './audit-event.types.ts';
import type { ClientConfig } from './config.ts';
import type { DeliveryView, ListNotificationsQuery } from './notification.types.ts';
import type { CreateScheduleRequest, ScheduleView } from './schedule.types.ts';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface RunResponse {
  readonly run: RunView;
  readonly agent_contract: AgentContract | null;
}

export interface RunWaitResponse extends RunResponse {
  /** How the wait ended; `position` is the `after` for the next one. */
  readonly wait: { readonly ended: boolean; readonly timedOut: boolean; readonly position: number };
}

/** Where a past view of a run stands in its history (GET /v1/runs/:id?at=). */
export interface PastPoint {
  readonly revision: number;
  readonly recordedAt: string;
  readonly eventType: string;
  readonly latestRevision: number;
}

export interface StartRunResponse extends RunResponse {
  /** True when the idempotency key matched a run that already existed (HTTP 200 rather than 201). */
  readonly existing: boolean;
}

export interface ListRunsQuery {
  readonly status?: string;
  readonly definition?: string;
  readonly limit?: number;
}

export interface ListLocksQuery {
  readonly tenant?: string;
  readonly limit?: number;
}

export interface ApiClient {
  readonly baseUrl: string;
  startRun(request: StartRunRequest): Promise<StartRunResponse>;
  listRuns(
    query: ListRunsQuery,
  ): Promise<{ readonly runs: readonly RunSummary[]; readonly agent_contract: AgentContract | null }>;
  getRun(runId: string): Promise<RunResponse>;
  /** The run as it was after a revision or at an ISO time (GET /v1/runs/:id?at=). */
  getRunAt(runId: string, at: string): Promise<RunResponse & { readonly at: PastPoint }>;
  /** Long poll (GET /v1/runs/:id/wait): the run once it changes past `after`, or ends, or `timeoutMs` is up. */
  waitRun(runId: string, after: number, timeoutMs: number): Promise<RunWaitResponse>;
  getEvents(
    runId: string,
  ): Promise<{ readonly events: readonly EventView[]; readonly agent_contract: AgentContract | null }>;
  act(runId: string, action: OperatorAction, request: ActionRequest): Promise<RunResponse>;
  /** POST /v1/runs/:id/fork: a new run from this one's state at a revision; `accepted` when not started yet (API mode). */
  forkRun(runId: string, request: ForkRequest): Promise<RunResponse & { readonly accepted?: Accepted }>;
  /** POST /v1/events: delivered to the steps waiting for it, buffered, or a duplicate. */
  sendEvent(request: SendEventRequest): Promise<{ readonly event: SendEventResult }>;
  validateDefinition(definition: unknown): Promise<{ readonly valid: boolean; readonly issues: readonly Issue[] }>;
  /** /v1/schedules (docs/schedules.md); `tenant` is for an admin key. */
  createSchedule(request: CreateScheduleRequest): Promise<{ readonly schedule: ScheduleView }>;
  listSchedules(tenant?: string): Promise<{ readonly schedules: readonly ScheduleView[] }>;
  changeSchedule(
    id: string,
    change: 'pause' | 'resume',
    tenant?: string,
    reason?: string,
  ): Promise<{ readonly schedule: ScheduleView }>;
  deleteSchedule(id: string, tenant?: string): Promise<{ readonly deleted: { id: string; tenant: string } }>;
  createKey(request: NewKeyRequest): Promise<{ readonly key: KeyView; readonly token: string }>;
  listKeys(tenant?: string): Promise<{ readonly keys: readonly KeyView[] }>;
  revokeKey(keyId: string, reason?: string): Promise<{ readonly key: KeyView }>;
  /** GET /v1/notifications: webhook deliveries and their attempts, newest event first. */
  listNotifications(query: ListNotificationsQuery): Promise<{ readonly deliveries: readonly DeliveryView[] }>;
  /** GET /v1/locks: who holds each resource lock and who waits for it, by tenant then name. */
  listLocks(query: ListLocksQuery): Promise<{ readonly locks: readonly LockView[] }>;
  /** GET /v1/audit/events: one page of the events of every run, oldest first, from the audit index. */
  searchAuditEvents(query: AuditSearchQuery): Promise<AuditEventsPage>;
  /** GET a JSON document (the audit routes). */
  getJson<T>(path: string): Promise<T>;
  /** GET an NDJSON stream line by line as it arrives (the audit export): memory stays constant. */
  streamLines(path: string): AsyncGenerator<string>;
}

const REQUEST_TIMEOUT_MS = 30_000;

export interface Accepted {
  readonly runId: string;
  readonly idempotencyKey: string;
}

/** How long `run` keeps asking about a start the server recorded but no orchestrator has started yet. */
const ACCEPTED_PATIENCE_MS = 30_000;

function notStartedYet(accepted: Accepted, url: string): ApiError {
  return new ApiError({
    httpStatus: 503,
    code: 'RUN.NOT_STARTED_YET',
    message: `the server recorded the start of run ${accepted.runId}, but no orchestrator has started it within ${ACCEPTED_PATIENCE_MS / 1000}s (is the broker down?). It will start when they are back; follow it with \`orchestron run … --idempotency-key ${accepted.idempotencyKey}\`.`,
    retryable: true,
    details: { runId: accepted.runId, idempotencyKey: accepted.idempotencyKey },
    url,
  });
}

/** A thin fetch wrapper: every failure leaves it as an ApiError or a ServerUnreachableError. */
export function createApiClient(config: ClientConfig, fetchImpl: FetchLike = fetch): ApiClient {
  const { baseUrl } = config;

  async function request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const url = `${baseUrl}${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (config.apiKey !== null) headers['authorization'] = `Bearer ${config.apiKey}`;
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      throw new ServerUnreachableError(baseUrl, describeFetchFailure(error));
    }
    const parsed = parseJson(text);
    if (!response.ok) throw apiError(response.status, parsed, text, `${method} ${url}`);
    if (parsed === undefined)
      throw new ServerUnreachableError(
        baseUrl,
        `${method} ${path} answered ${response.status} with a body that is not JSON`,
      );
    return { status: response.status, body: parsed as T };
  }

  const enc = encodeURIComponent;
  return {
    baseUrl,
    async startRun(startRequest) {
      // 202: the server recorded the start, and no orchestrator has started it yet (its broker is away). Asking
      // again with the key it names is safe, as its agent_contract says; after a while the caller is told.
      let ask: StartRunRequest = startRequest;
      for (let delayMs = 250, waitedMs = 0; ; waitedMs += delayMs, delayMs = Math.min(delayMs * 2, 2_000)) {
        const { status, body } = await request<RunResponse & { accepted?: Accepted }>('POST', '/v1/runs', ask);
        // A 200 after our own 202 is the run our first ask recorded, not an earlier one with the same key.
        if (status !== 202 || body.accepted === undefined)
          return { ...withContract(body), existing: status === 200 && ask === startRequest };
        if (waitedMs >= ACCEPTED_PATIENCE_MS) throw notStartedYet(body.accepted, `POST ${baseUrl}/v1/runs`);
        ask = { ...startRequest, idempotencyKey: body.accepted.idempotencyKey };
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    },
    async listRuns(query) {
      const params = new URLSearchParams();
      if (query.status !== undefined) params.set('status', query.status);
      if (query.definition !== undefined) params.set('definition', query.definition);
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      const qs = params.size > 0 ? `?${params.toString()}` : '';
      const { body } = await request<{ runs: RunSummary[]; agent_contract?: AgentContract }>('GET', `/v1/runs${qs}`);
      return { runs: body.runs ?? [], agent_contract: body.agent_contract ?? null };
    },
    async getRun(runId) {
      return withContract((await request<RunResponse>('GET', `/v1/runs/${enc(runId)}`)).body);
    },
    async getRunAt(runId, at) {
      const { body } = await request<RunResponse & { at: PastPoint }>(
        'GET',
        `/v1/runs/${enc(runId)}?at=${encodeURIComponent(at)}`,
      );
      return { ...withContract(body), at: body.at };
    },
    async waitRun(runId, after, timeoutMs) {
      const path = `/v1/runs/${enc(runId)}/wait?after=${after}&timeoutMs=${timeoutMs}`;
      const { body } = await request<RunWaitResponse>('GET', path);
      return { ...withContract(body), wait: body.wait };
    },
    async getEvents(runId) {
      const { body } = await request<{ events: EventView[]; agent_contract?: AgentContract }>(
        'GET',
        `/v1/runs/${enc(runId)}/events`,
      );
      return { events: body.events ?? [], agent_contract: body.agent_contract ?? null };
    },
    async act(runId, action, actionRequest) {
      return withContract(
        (await request<RunResponse>('POST', `/v1/runs/${enc(runId)}/actions/${action}`, actionRequest)).body,
      );
    },
    async forkRun(runId, forkRequest) {
      const { body } = await request<RunResponse & { accepted?: Accepted }>(
        'POST',
        `/v1/runs/${enc(runId)}/fork`,
        forkRequest,
      );
      return { ...withContract(body), ...(body.accepted !== undefined ? { accepted: body.accepted } : {}) };
    },
    async sendEvent(eventRequest) {
      return (await request<{ event: SendEventResult }>('POST', '/v1/events', eventRequest)).body;
    },
    async validateDefinition(definition) {
      return (await request<{ valid: boolean; issues: Issue[] }>('POST', '/v1/definitions/validate', definition)).body;
    },
    async createSchedule(scheduleRequest) {
      return (await request<{ schedule: ScheduleView }>('POST', '/v1/schedules', scheduleRequest)).body;
    },
    async listSchedules(tenant) {
      return (await request<{ schedules: ScheduleView[] }>('GET', `/v1/schedules${tenantQuery(tenant)}`)).body;
    },
    async changeSchedule(id, change, tenant, reason) {
      const path = `/v1/schedules/${encodeURIComponent(id)}/${change}${tenantQuery(tenant)}`;
      return (await request<{ schedule: ScheduleView }>('POST', path, reason !== undefined ? { reason } : {})).body;
    },
    async deleteSchedule(id, tenant) {
      const path = `/v1/schedules/${encodeURIComponent(id)}${tenantQuery(tenant)}`;
      return (await request<{ deleted: { id: string; tenant: string } }>('DELETE', path)).body;
    },
    async createKey(keyRequest) {
      return (await request<{ key: KeyView; token: string }>('POST', '/v1/keys', keyRequest)).body;
    },
    async listKeys(tenant) {
      return (
        await request<{ keys: KeyView[] }>('GET', `/v1/keys${tenant === undefined ? '' : `?tenant=${enc(tenant)}`}`)
      ).body;
    },
    async listNotifications(query) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
      const qs = params.size > 0 ? `?${params.toString()}` : '';
      return (await request<{ deliveries: DeliveryView[] }>('GET', `/v1/notifications${qs}`)).body;
    },
    async listLocks(query) {
      const params = new URLSearchParams();
      if (query.tenant !== undefined) params.set('tenant', query.tenant);
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      const qs = params.size > 0 ? `?${params.toString()}` : '';
      return (await request<{ locks: LockView[] }>('GET', `/v1/locks${qs}`)).body;
    },
    async searchAuditEvents(query) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
      const qs = params.size > 0 ? `?${params.toString()}` : '';
      return (await request<AuditEventsPage>('GET', `/v1/audit/events${qs}`)).body;
    },
    async revokeKey(keyId, reason) {
      return (
        await request<{ key: KeyView }>('POST', `/v1/keys/${enc(keyId)}/revoke`, reason === undefined ? {} : { reason })
      ).body;
    },
    async getJson<T>(path: string) {
      return (await request<T>('GET', path)).body;
    },
    async *streamLines(path) {
      const url = `${baseUrl}${path}`;
      const headers: Record<string, string> = { accept: 'application/x-ndjson' };
      if (config.apiKey !== null) headers['authorization'] = `Bearer ${config.apiKey}`;
      let response: Response;
      try {
        response = await fetchImpl(url, { method: 'GET', headers });
      } catch (error) {
        throw new ServerUnreachableError(baseUrl, describeFetchFailure(error));
      }
      if (!response.ok || response.body === null) {
        const text = await response.text();
        throw apiError(response.status, parseJson(text), text, `GET ${url}`);
      }
      yield* linesOf(response.body);
    },
  };
}

/** The lines of a byte stream, without their line ends. */
async function* linesOf(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    yield* parts;
  }
  if (rest !== '') yield rest;
}

function withContract(body: RunResponse): RunResponse {
  return { run: body.run, agent_contract: body.agent_contract ?? null };
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function apiError(httpStatus: number, parsed: unknown, text: string, url: string): ApiError {
  const error = (parsed as { error?: unknown } | undefined)?.error;
  if (typeof error === 'object' && error !== null) {
    const e = error as { code?: unknown; message?: unknown; retryable?: unknown; details?: unknown };
    return new ApiError({
      httpStatus,
      code: typeof e.code === 'string' ? e.code : `HTTP.${httpStatus}`,
      message: typeof e.message === 'string' ? e.message : `HTTP ${httpStatus}`,
      retryable: e.retryable === true,
      details: typeof e.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>) : null,
      url,
    });
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError({
    httpStatus,
    code: `HTTP.${httpStatus}`,
    message: `HTTP ${httpStatus}${snippet ? `: ${snippet}` : ''}`,
    retryable: httpStatus >= 500,
    details: null,
    url,
  });
}

/** Node's fetch hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function describeFetchFailure(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no response within ${REQUEST_TIMEOUT_MS / 1000}s`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

const tenantQuery = (tenant: string | undefined): string =>
  tenant === undefined ? '' : `?tenant=${encodeURIComponent(tenant)}`;
