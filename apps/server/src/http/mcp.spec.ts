import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { TOOLS } from '@orchestron/mcp';
import { Engine } from '@orchestron/runtime';
import { KeyRing } from '../keys/key-ring.ts';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/** The MCP server at /mcp, driven by the SDK's own client over streamable HTTP, against a real listening server. */
const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('admin'), role: 'admin', name: 'root' },
  { key: key('ops'), role: 'operator', name: 'acme-ops', tenant: 'acme' },
  { key: key('shop'), role: 'producer', name: 'shop', tenant: 'acme' },
  { key: key('audit'), role: 'auditor', name: 'acme-audit', tenant: 'acme' },
  { key: key('globex'), role: 'operator', name: 'globex-ops', tenant: 'globex' },
] as const;
const gated = { id: 'gated', version: 1, steps: { gate: { type: 'approval' } } };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('MCP over streamable HTTP (/mcp)', () => {
  let engine: Engine;
  let ring: KeyRing;
  let app: HttpApp;
  let url: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    const store = createInMemoryEventStore();
    engine = new Engine({ store, bus: createInMemoryBus() });
    await engine.start();
    await engine.definitions.register(gated, 'test', 'acme');
    await engine.definitions.register(gated, 'test', 'globex');
    ring = await KeyRing.open({ config: KEYS, store });
    app = await createHttpApp({ runs: engine, keys: ring });
    url = await app.listen('127.0.0.1', 0);
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await app.close();
    await engine.stop();
    ring.close();
  });

  const connect = async (who: string): Promise<Client> => {
    const client = new Client({ name: 'mcp-spec', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key(who)}` } },
    });
    await client.connect(transport);
    clients.push(client);
    return client;
  };
  const call = async (client: Client, name: string, args: Json = {}) => {
    const result = await client.callTool({ name, arguments: args });
    return { isError: result.isError === true, body: result.structuredContent as Json };
  };

  it('starts a run, sees it wait for approval, approves it and sees it complete', async () => {
    const ops = await connect('ops');
    const started = await call(ops, 'start_run', { definitionId: 'gated', idempotencyKey: 'mcp-1', input: { n: 1 } });
    expect(started.isError).toBe(false);
    const runId = started.body.run.id as string;
    const status = await call(ops, 'get_run', { runId });
    expect(status.body.run.steps).toEqual([expect.objectContaining({ id: 'gate', status: 'waiting_approval' })]);
    expect(status.body.agent_contract.next_actions.map((a: Json) => a.action)).toContain('approve');
    const approved = await call(ops, 'approve', { runId, stepId: 'gate', reason: 'checked by the agent' });
    expect(approved.isError).toBe(false);
    const waited = await call(ops, 'wait_for_run', { runId, timeoutMs: 5_000 });
    expect(waited.body.run.status).toBe('completed');
    expect(waited.body.wait.ended).toBe(true);
    const history = await call(ops, 'get_history', { runId });
    const approval = (history.body.events as Json[]).find((e) => e.type === 'StepApproved');
    expect(approval?.metadata.actor).toBe('operator:acme-ops');
    expect(approval?.data.reason).toBe('checked by the agent');
  });

  it('lists every tool with a JSON Schema for its input and its output', async () => {
    const { tools } = await (await connect('ops')).listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS.map((t) => t.name).sort());
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
    }
  });

  it('refuses what the key’s role may not do, with the HTTP code and agent_contract', async () => {
    const ops = await connect('ops');
    const { body: started } = await call(ops, 'start_run', { definitionId: 'gated', idempotencyKey: 'mcp-2' });
    for (const who of ['shop', 'audit']) {
      const refused = await call(await connect(who), 'approve', { runId: started.run.id, stepId: 'gate' });
      expect(refused.isError).toBe(true);
      expect(refused.body.error.code).toBe('AUTH.FORBIDDEN');
      expect(refused.body.agent_contract.retryable).toBe(false);
    }
    const history = await call(await connect('shop'), 'get_history', { runId: started.run.id });
    expect(history.body.error.code).toBe('AUTH.FORBIDDEN');
  });

  it('does not show or touch another tenant’s run, in tools or resources', async () => {
    const { body: started } = await call(await connect('ops'), 'start_run', {
      definitionId: 'gated',
      idempotencyKey: 'mcp-3',
    });
    const globex = await connect('globex');
    for (const [tool, args] of [
      ['get_run', {}],
      ['approve', { stepId: 'gate' }],
      ['cancel', { reason: 'not mine' }],
    ] as const) {
      const refused = await call(globex, tool, { runId: started.run.id, ...args });
      expect(refused.body.error.code).toBe('RUN.NOT_FOUND');
    }
    const { resources } = await globex.listResources();
    expect(resources.map((r) => r.uri)).not.toContain(`orchestron://runs/${started.run.id}`);
    await expect(globex.readResource({ uri: `orchestron://runs/${started.run.id}` })).rejects.toThrow(/404/);
    const mine = await (await connect('ops')).readResource({ uri: `orchestron://runs/${started.run.id}` });
    expect(JSON.parse(String((mine.contents[0] as { text?: string }).text)).run.id).toBe(started.run.id);
  });

  it('keeps a hostile run id inside its route, and names bad arguments', async () => {
    const admin = await connect('admin');
    const traversal = await call(admin, 'get_run', { runId: '../keys' });
    expect(traversal.isError).toBe(true);
    expect(traversal.body.keys).toBeUndefined();
    expect(['RUN.NOT_FOUND', 'REQUEST.INVALID']).toContain(traversal.body.error.code);
    const extra = await call(admin, 'get_run', { runId: 'x', tenant: 'globex' });
    expect(extra.body.error).toMatchObject({ code: 'REQUEST.INVALID', details: { field: 'tenant' } });
    const missing = await call(admin, 'skip_step', { runId: 'x', stepId: 'gate' });
    expect(missing.body.error).toMatchObject({ code: 'REQUEST.INVALID', details: { field: 'output' } });
    const long = await call(admin, 'wait_for_run', { runId: 'x', timeoutMs: 3_600_000 });
    expect(long.body.error).toMatchObject({ code: 'REQUEST.INVALID', details: { field: 'timeoutMs' } });
    const unknown = await call(admin, 'drop_database');
    expect(unknown.body.error.code).toBe('TOOL.UNKNOWN');
  });

  it('answers 401 without a key, and 405 to GET and DELETE', async () => {
    const post = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(post.status).toBe(401);
    expect(((await post.json()) as Json).error.code).toBe('AUTH.UNAUTHENTICATED');
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${url}/mcp`, { method, headers: { authorization: `Bearer ${key('ops')}` } });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    }
  });

  it('offers the operator prompt', async () => {
    const ops = await connect('ops');
    const { prompts } = await ops.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['operate_orchestron']);
    const prompt = await ops.getPrompt({ name: 'operate_orchestron', arguments: { runId: 'r-1' } });
    expect(JSON.stringify(prompt.messages)).toContain('agent_contract.next_actions');
  });
});
