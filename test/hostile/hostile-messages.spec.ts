/**
 * The hostile-input suite, below HTTP (issue 8): wire messages (as values, as raw bytes, and through the bus to a
 * running engine, which must dead-letter each with a reason that names the problem) and expressions (each must
 * give a value or an ExpressionError with its code, never another failure).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  parseExternalEventMessage,
  parseGovernanceDecisionMessage,
  parseOperatorCommandMessage,
  parseStepCommandMessage,
  parseStepEventMessage,
  parseWorkflowStartMessage,
  Topics,
  WireFormatError,
} from '@orchestron/bus';
import {
  evaluateExpression,
  ExpressionError,
  JsonLimitError,
  MAX_MESSAGE_DEPTH,
  parseLimitedJson,
} from '@orchestron/definitions';
import { eventually } from '@orchestron/runtime/testing';
import { hostileBytes, hostileMessage, RUN_ID } from './wire-arbitraries.ts';
import { startHostileServer } from './fixture.ts';
import type { HostileServer } from './fixture.ts';

const RUNS = { values: 300, bytes: 150, deadLetters: 120, expressions: 250 } as const;
let cases = 0;

const PARSERS = [
  parseStepEventMessage,
  parseStepCommandMessage,
  parseWorkflowStartMessage,
  parseOperatorCommandMessage,
  parseGovernanceDecisionMessage,
  parseExternalEventMessage,
] as const;

describe('hostile messages and expressions', () => {
  let server: HostileServer;
  let witness: { id: string; history: string };

  beforeAll(async () => {
    server = await startHostileServer();
    witness = await server.witness();
  });
  afterAll(async () => {
    await server.close();
    process.stdout.write(`hostile message and expression cases: ${cases}\n`);
  });

  it('every wire parser accepts a message or refuses it with WIRE.INVALID naming the field', () => {
    fc.assert(
      fc.property(hostileMessage, fc.constantFrom(...PARSERS), (value, parse) => {
        cases++;
        try {
          parse(value);
        } catch (error) {
          expect(error).toBeInstanceOf(WireFormatError);
          expect((error as WireFormatError).code).toBe('WIRE.INVALID');
          expect((error as Error).message).toMatch(/: (\/|\$)|must be|nests deeper|finite/);
        }
      }),
      { numRuns: RUNS.values },
    );
  });

  it('raw bytes are parsed under the message limits, or refused naming the limit, before anything walks them', () => {
    fc.assert(
      fc.property(hostileBytes, (text) => {
        cases++;
        try {
          parseLimitedJson(text, { maxDepth: MAX_MESSAGE_DEPTH, subject: 'the message', forbidPrototypeKeys: true });
        } catch (error) {
          expect(error).toBeInstanceOf(JsonLimitError);
          expect((error as Error).message.length).toBeLessThan(1_000);
        }
      }),
      { numRuns: RUNS.bytes },
    );
  });

  it('the running engine dead-letters every malformed message on its topics, with a reason that names the problem', async () => {
    // The topics the embedded engine consumes (governance decisions come over the bus only from the governance service).
    const topics = [Topics.stepEvents, Topics.workflowStarts, Topics.operatorCommands, Topics.externalEvents];
    const before = server.deadLetters.length;
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(hostileMessage, fc.constantFrom(...topics), async (value, topic) => {
        // A message a parser takes would be applied, not dead-lettered: only the malformed ones go out.
        try {
          (topic === Topics.stepEvents
            ? parseStepEventMessage
            : topic === Topics.workflowStarts
              ? parseWorkflowStartMessage
              : topic === Topics.externalEvents
                ? parseExternalEventMessage
                : parseOperatorCommandMessage)(value);
          return;
        } catch {
          sent++;
          cases++;
          await server.bus.publish(topic, [{ key: RUN_ID, value }]);
        }
      }),
      { numRuns: RUNS.deadLetters },
    );
    await eventually(
      `all ${sent} malformed messages in the dead-letter topic`,
      () => server.deadLetters.length - before >= sent,
    );
    for (const letter of server.deadLetters.slice(before)) {
      expect((letter.value as { reason: string }).reason).toMatch(
        /^WireFormatError: not a valid [\w. /]+ message: .+|^WireFormatError: not a valid step event: .+/,
      );
    }
    expect(sent).toBeGreaterThan(RUNS.deadLetters / 2);
  });

  it('every expression gives a value or an ExpressionError with its code, never another failure', () => {
    const items = Array.from({ length: 200_000 }, (_, i) => i);
    const context = {
      input: { items, s: 'a'.repeat(100_000), big: Object.fromEntries(items.slice(0, 5_000).map((i) => [`k${i}`, i])) },
      steps: {},
      run: { id: RUN_ID, definitionId: 'x' },
    };
    const leaf = fc.constantFrom(
      'input.items',
      'input.s',
      'input.big',
      '[1, 2, 3]',
      '"ab"',
      '1',
      'input.items.size()',
      'input',
    );
    const expression = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        tie('e').map((e) => `${e}.map(x, ${'[x, x]'})`),
        tie('e').map((e) => `${e}.filter(x, x == x)`),
        tie('e').map((e) => `${e}.exists(x, x in ${e})`),
        fc.tuple(tie('e'), tie('e')).map(([a, b]) => `${a} + ${b}`),
        fc
          .tuple(tie('e'), fc.constantFrom('^(a+)+$', '(a|aa)+b', '(.*a){20}', '([a-z]+)*$', '(a)\\\\1', '(?=a)', '['))
          .map(([e, re]) => `string(${e}).matches("${re}")`),
        tie('e').map((e) => `size(${e})`),
        tie('e').map((e) => `string(${e})`),
      ),
    })).e;
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(expression, (source) => {
        cases++;
        try {
          evaluateExpression(source, context);
          outcomes.set('value', (outcomes.get('value') ?? 0) + 1);
        } catch (error) {
          if (error instanceof ExpressionError) outcomes.set(error.code, (outcomes.get(error.code) ?? 0) + 1);
          expect({ source, error: error instanceof ExpressionError ? error.code : String(error) }).toEqual({
            source,
            error: expect.stringMatching(/^EXPRESSION\.(INVALID|BUDGET_EXCEEDED)$/),
          });
        }
      }),
      { numRuns: RUNS.expressions },
    );
    // The corpus must reach every outcome, or it tests less than it says.
    expect([...outcomes.keys()].sort()).toEqual(['EXPRESSION.BUDGET_EXCEEDED', 'EXPRESSION.INVALID', 'value']);
  });

  it('the server and the run finished before are unharmed', async () => {
    expect((await server.send('GET', '/healthz', 'producer')).status).toBe(200);
    expect(JSON.stringify((await server.call('GET', `/v1/runs/${witness.id}/events`, 'admin')).body.events)).toBe(
      witness.history,
    );
    expect(cases).toBeGreaterThanOrEqual(RUNS.values + RUNS.bytes + RUNS.expressions + RUNS.deadLetters / 2);
  });
});
