import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ROOT, startServer } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * An agent with nothing but an MCP connection, over both transports, against the real server process: starts a run,
 * sees governance hold its payment for approval, approves it, and sees it complete (docs/mcp.md).
 */
describe('MCP, with the SDK client, against the server process', () => {
  let server: ServerProcess;
  const clients: Client[] = [];

  beforeAll(async () => {
    server = await startServer(mkdtempSync(join(tmpdir(), 'orchestron-mcp-')), { ORCHESTRON_WORK_MS: '5' });
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await server.kill('SIGTERM');
  });

  const transports: Record<string, (key: string) => Transport> = {
    'streamable HTTP': (key) =>
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      }),
    'stdio (orchestron mcp)': (key) =>
      new StdioClientTransport({
        command: process.execPath,
        args: [join(ROOT, 'bin/orchestron.mjs'), 'mcp'],
        cwd: ROOT,
        env: { ...(process.env as Record<string, string>), ORCHESTRON_URL: server.url, ORCHESTRON_API_KEY: key },
        stderr: 'pipe',
      }),
  };
  const connect = async (transport: string, key: string): Promise<Client> => {
    const client = new Client({ name: 'mcp-e2e', version: '1.0.0' });
    await client.connect(transports[transport]!(key));
    clients.push(client);
    return client;
  };
  const call = async (client: Client, name: string, args: Json) => {
    const result = await client.callTool({ name, arguments: args });
    return { isError: result.isError === true, body: result.structuredContent as Json };
  };

  for (const transport of Object.keys(transports)) {
    it(`${transport}: start, wait for approval, approve, complete`, async () => {
      const agent = await connect(transport, server.key);
      const { tools } = await agent.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['start_run', 'approve', 'wait_for_run']));
      const started = await call(agent, 'start_run', {
        definitionId: 'vendor-payment',
        idempotencyKey: `mcp-${transport}`,
        input: { vendor: 'acme', amount: 1500 },
      });
      expect(started.isError).toBe(false);
      const runId = started.body.run.id as string;
      let position = 0;
      let gate: Json | undefined;
      for (let i = 0; i < 20 && gate?.status !== 'waiting_approval'; i++) {
        const changed = await call(agent, 'wait_for_run', { runId, after: position, timeoutMs: 2_000 });
        position = changed.body.wait.position as number;
        gate = (changed.body.run.steps as Json[]).find((s) => s.id === 'pay-vendor');
      }
      expect(gate?.status).toBe('waiting_approval');
      const approved = await call(agent, 'approve', {
        runId,
        stepId: 'pay-vendor',
        reason: 'invoice checked against the contract',
      });
      expect(approved.isError).toBe(false);
      const ended = await call(agent, 'wait_for_run', { runId, timeoutMs: 10_000 });
      expect(ended.body.run.status).toBe('completed');
      expect((ended.body.run.steps as Json[]).map((s) => s.status)).toEqual(['completed', 'completed']);
      const replay = await call(agent, 'start_run', {
        definitionId: 'vendor-payment',
        idempotencyKey: `mcp-${transport}`,
        input: { vendor: 'acme', amount: 1500 },
      });
      expect(replay.body.run.id).toBe(runId);
    });

    it(`${transport}: a wrong key gets AUTH.UNAUTHENTICATED from every tool`, async () => {
      if (transport === 'streamable HTTP') {
        await expect(connect(transport, 'not-a-key-0123456789')).rejects.toThrow(/401|AUTH\.UNAUTHENTICATED/);
        return;
      }
      const agent = await connect(transport, 'not-a-key-0123456789');
      const refused = await call(agent, 'list_runs', {});
      expect(refused).toMatchObject({ isError: true, body: { error: { code: 'AUTH.UNAUTHENTICATED' } } });
    });
  }
});
