/**
 * An agent with nothing but an MCP connection: it starts a vendor payment over the approval limit, watches governance
 * hold the charge for a person, approves it with a reason, and watches the run complete. It prints each tool call and
 * the part of the answer an agent acts on, which is the transcript in docs/mcp.md.
 *
 *   npm start                                   # in one terminal
 *   node examples/agents/mcp-agent.ts           # in another (ORCHESTRON_URL, ORCHESTRON_API_KEY to change them)
 *
 * The key defaults to the admin key `npm start` wrote to .orchestron/admin.key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const url = process.env['ORCHESTRON_URL'] ?? 'http://127.0.0.1:3000';
const keyFile = '.orchestron/admin.key';
const key = process.env['ORCHESTRON_API_KEY'] ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : '');
if (key === '') throw new Error(`no key: set ORCHESTRON_API_KEY, or run npm start here first to write ${keyFile}`);

const client = new Client({ name: 'example-agent', version: '1.0.0' });
await client.connect(
  new StreamableHTTPClientTransport(new URL('/mcp', url), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  }),
);

const call = async (name: string, args: Json): Promise<Json> => {
  const result = await client.callTool({ name, arguments: args });
  const body = result.structuredContent as Json;
  const brief = body.error ? `error ${body.error.code}: ${body.error.message}` : summary(body);
  console.log(`→ ${name} ${JSON.stringify(args)}\n← ${brief}`);
  return body;
};

const summary = (body: Json): string => {
  const run = body.run as Json | undefined;
  if (run === undefined) return Object.keys(body).join(', ');
  const steps = (run.steps as Json[]).map((s) => `${s.id}:${s.status}`).join(' ');
  const next = (body.agent_contract?.next_actions as Json[] | undefined)?.map((a) => a.action as string) ?? [];
  return `run ${run.id} ${run.status} [${steps}]${next.length > 0 ? ` next: ${next.join(', ')}` : ''}`;
};

const { tools } = await client.listTools();
console.log(`tools (${tools.length}): ${tools.map((t) => t.name).join(', ')}`);
const started = await call('start_run', {
  definitionId: 'vendor-payment',
  idempotencyKey: `example-agent-${Date.now()}`,
  input: { vendor: 'acme', amount: 1500 },
});
const runId = started.run.id as string;
let position = 0;
let waiting = false;
for (let i = 0; i < 20 && !waiting; i++) {
  const changed = await call('wait_for_run', { runId, after: position, timeoutMs: 5_000 });
  position = changed.wait.position as number;
  waiting = (changed.run.steps as Json[]).some((s) => s.status === 'waiting_approval');
}
await call('approve', { runId, stepId: 'pay-vendor', reason: 'invoice checked against the contract' });
const ended = await call('wait_for_run', { runId, timeoutMs: 10_000 });
await client.close();
process.exitCode = ended.run.status === 'completed' ? 0 : 1;
