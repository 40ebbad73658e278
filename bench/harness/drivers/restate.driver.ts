// restate: the restate-server binary from its npm package (4 partitions, its own base dir and ports) and a Node
// service (hosts/restate.service.ts); a run is one blocking HTTP call to the ingress.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedLoop, withLimit } from '../closed-loop.ts';
import type { Driver, DriverContext, ProcessRef, Shape } from '../types.ts';
import { countEffects } from './effects.ts';
import { freePort, spawnUntil, stopProcess, waitForHttp } from './processes.ts';
import type { Spawned } from './processes.ts';

const SERVICE = fileURLToPath(new URL('../hosts/restate.service.ts', import.meta.url));
const PARTITIONS = 4;

export function restateBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@restatedev/restate-server-linux-x64/package.json')), 'bin/restate-server');
}

export function restateDriver(ctx: DriverContext): Driver {
  const dir = join(ctx.workDir, 'restate');
  const effects = join(dir, 'effects.log');
  let server: Spawned | undefined;
  let service: Spawned | undefined;
  let ports = { ingress: 0, admin: 0, fabric: 0, service: 0 };
  // A fresh base dir for each start (a retried start must not inherit a half-made node); a restart keeps it.
  let starts = 0;
  const ingress = (): string => `http://127.0.0.1:${ports.ingress}`;

  const startServer = async (): Promise<void> => {
    server = await spawnUntil(
      restateBinary(),
      ['--bind-ip', '127.0.0.1', '--base-dir', join(dir, `base${starts}`), '--node-name', 'benchh', '--no-logo'],
      {
        RESTATE_DISABLE_TELEMETRY: 'true',
        RESTATE_DEFAULT_NUM_PARTITIONS: String(PARTITIONS),
        RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ports.ingress}`,
        RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${ports.admin}`,
        RESTATE_BIND_ADDRESS: `127.0.0.1:${ports.fabric}`,
      },
      join(dir, 'server.log'),
      /Ingress HTTP listening/,
    );
    await waitForHttp(`http://127.0.0.1:${ports.admin}/health`);
    await waitForHttp(`${ingress()}/restate/health`);
  };

  /** A blocking call: the answer is the handler's result (steps done). */
  const call = async (path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${ingress()}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(180_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  };

  return {
    system: 'restate',
    kind: 'peer',
    async start() {
      mkdirSync(dir, { recursive: true });
      starts += 1;
      ports = {
        ingress: await freePort(),
        admin: await freePort(),
        fabric: await freePort(),
        service: await freePort(),
      };
      await startServer();
      service = await spawnUntil(
        process.execPath,
        [SERVICE, '--port', String(ports.service), '--effects', effects],
        { NODE_OPTIONS: '' },
        join(dir, 'service.log'),
        /listening on/,
      );
      const registered = await fetch(`http://127.0.0.1:${ports.admin}/deployments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ uri: `http://127.0.0.1:${ports.service}` }),
      });
      if (!registered.ok)
        throw new Error(`restate: registering the service: HTTP ${registered.status} ${await registered.text()}`);
    },
    runWorkload(shape: Shape, inFlight, count, maxSeconds) {
      return closedLoop(inFlight, count, maxSeconds, async () => (await call('/benchh/run', shape)) as number);
    },
    async stop() {
      await stopProcess(service);
      await stopProcess(server);
      service = undefined;
      server = undefined;
    },
    pids(): ProcessRef[] {
      const refs: ProcessRef[] = [];
      const s = server;
      const v = service;
      if (s) refs.push({ role: 'restate-server', name: 'restate-server', pids: () => [s.pid] });
      if (v) refs.push({ role: 'service', name: 'node service', pids: () => [v.pid] });
      return refs;
    },
    writes: async () => ({ events: null, rows: null }),
    crash: {
      submit: (shape, count) =>
        withLimit(
          50,
          Array.from({ length: count }, () => async () => {
            const sent = (await call('/benchh/run/send', { ...shape, count: true })) as { invocationId: string };
            return sent.invocationId;
          }),
        ),
      kill: () => stopProcess(server, 'SIGKILL'),
      restart: startServer,
      async awaitAll(handles, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        const results = await withLimit(
          200,
          handles.map((id) => async () => {
            while (Date.now() < deadline) {
              try {
                await call(`/restate/invocation/${id}/attach`);
                return true;
              } catch {
                await new Promise((r) => setTimeout(r, 100));
              }
            }
            return false;
          }),
        );
        return results.filter(Boolean).length;
      },
      executions: async () => countEffects(effects),
    },
    settings: () => ({
      partitions: PARTITIONS,
      server: 'restate-server from @restatedev/restate-server, single node, its own base dir, telemetry off',
      service: 'one Node process, @restatedev/restate-sdk endpoint (HTTP/2), service benchh, handler run',
      client: 'POST /benchh/run on the ingress, blocking until the handler returns',
    }),
  };
}
