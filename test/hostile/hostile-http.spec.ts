/**
 * The hostile-input suite, over HTTP (issue 8): generated requests, each with a defect, thrown at a live embedded
 * server by an ordinary producer (and, where it matters, an operator). Every one must be a 4xx that names what
 * is wrong; none may be a 5xx; afterwards the server answers and a run finished before the storm is unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { actionDefects, definitionDefects, legalOddInput, queryDefects, startDefects } from './arbitraries.ts';
import { namesTheProblem, startHostileServer } from './fixture.ts';
import type { HostileServer, Reply } from './fixture.ts';

/** Cases per property; the suite's total is printed at the end and checked to be at least 1,000. */
const RUNS = { starts: 400, definitions: 200, validations: 150, queries: 200, actions: 150, legal: 100 } as const;
let cases = 0;

describe('hostile HTTP input', () => {
  let server: HostileServer;
  let witness: { id: string; history: string };

  beforeAll(async () => {
    server = await startHostileServer();
    witness = await server.witness();
  });
  afterAll(async () => {
    await server.close();
    process.stdout.write(`hostile HTTP cases: ${cases}\n`);
  });

  const refused = (defect: string, reply: Reply): void => {
    cases++;
    const summary = { defect, status: reply.status, error: reply.body.error };
    expect({ ...summary, ok: reply.status >= 400 && reply.status < 500 && namesTheProblem(reply) }).toEqual({
      ...summary,
      ok: true,
    });
    // An error quotes at most 80 characters of what it was given, whatever that was.
    expect(reply.size).toBeLessThan(4_096);
  };

  it('refuses every defective start with a 4xx naming the field or limit', async () => {
    await fc.assert(
      fc.asyncProperty(startDefects, async ({ defect, text }) => {
        refused(defect, await server.send('POST', '/v1/runs', 'producer', text));
      }),
      { numRuns: RUNS.starts },
    );
  });

  it('refuses every defective definition, registered by an operator, naming the path', async () => {
    await fc.assert(
      fc.asyncProperty(definitionDefects, async ({ defect, text }) => {
        refused(defect, await server.send('POST', '/v1/definitions', 'ops', text));
      }),
      { numRuns: RUNS.definitions },
    );
  });

  it("validates every defective definition as invalid with each issue's path, or refuses the body naming the limit", async () => {
    await fc.assert(
      fc.asyncProperty(definitionDefects, async ({ defect, text }) => {
        const reply = await server.send('POST', '/v1/definitions/validate', 'producer', text);
        if (reply.status === 200) {
          cases++;
          expect({
            defect,
            valid: reply.body.valid,
            paths: (reply.body.issues as { path?: unknown }[]).every((i) => typeof i.path === 'string'),
          }).toEqual({ defect, valid: false, paths: true });
          expect((reply.body.issues as unknown[]).length).toBeGreaterThan(0);
        } else {
          refused(defect, reply);
        }
      }),
      { numRuns: RUNS.validations },
    );
  });

  it('refuses every defective query and path parameter', async () => {
    await fc.assert(
      fc.asyncProperty(queryDefects, async ({ defect, url }) => {
        refused(defect, await server.send('GET', url, 'producer'));
      }),
      { numRuns: RUNS.queries },
    );
  });

  it('refuses every operator action that is malformed or cannot apply, and the run it named is unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(actionDefects, async ({ defect, action, text }) => {
        refused(defect, await server.send('POST', `/v1/runs/${witness.id}/actions/${action}`, 'ops', text));
      }),
      { numRuns: RUNS.actions },
    );
  });

  it("keeps odd but legal input exactly as sent: keys named like Object.prototype's members are data", async () => {
    await fc.assert(
      fc.asyncProperty(legalOddInput, async (input) => {
        cases++;
        const reply = await server.call('POST', '/v1/runs', 'producer', { definitionId: 'vendor-payment', input });
        expect({ status: reply.status, input: reply.body.run?.input as unknown }).toEqual({ status: 201, input });
      }),
      { numRuns: RUNS.legal },
    );
  });

  it('is healthy after the storm, and the run finished before it is unchanged', async () => {
    expect((await server.send('GET', '/healthz', 'producer')).status).toBe(200);
    const history = JSON.stringify((await server.call('GET', `/v1/runs/${witness.id}/events`, 'admin')).body.events);
    expect(history).toBe(witness.history);
    const after = await server.call('POST', '/v1/runs', 'producer', {
      definitionId: 'vendor-payment',
      input: { vendor: 'acme', amount: 20 },
    });
    expect(after.status).toBe(201);
    expect(cases).toBeGreaterThanOrEqual(Object.values(RUNS).reduce((a, b) => a + b, 0));
  });
});
