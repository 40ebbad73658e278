import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { Parser } from '@asyncapi/parser';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import {
  createInMemoryBus,
  externalEventSchema,
  governanceDecisionSchema,
  governanceRequestSchema,
  operatorCommandSchema,
  parseStepCommandMessage,
  stepCommandSchema,
  stepEventSchema,
  topicNames,
  Topics,
  WireFormatError,
  workflowStartSchema,
} from '@orchestron/bus';
import type { DeliveredMessage, StepCommandMessage } from '@orchestron/bus';
import type { DeadLetterRecord } from '@orchestron/bus-kafka';
import { createWorker, TerminalError } from '@orchestron/worker-sdk';

const TEXT = readFileSync(new URL('../../docs/asyncapi.yaml', import.meta.url), 'utf8');
type Schema = Record<string, unknown>;
type Doc = {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  components: {
    messages: Record<string, { payload: { $ref: string }; examples?: { payload: unknown }[] }>;
    schemas: Record<string, Schema>;
  };
};
const RAW = parseYaml(TEXT) as Doc;

/** The schema a `#/components/...` reference points at. */
function resolve<T>(ref: string): T {
  if (!ref.startsWith('#/')) throw new Error(`not a local reference: ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], RAW) as T;
}

/** A schema without what only explains it to a reader, so documentation can be added without breaking equality. */
function withoutAnnotations(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Schema)) {
    if (['description', 'title', 'examples', '$comment'].includes(key)) continue;
    if (key === 'properties')
      out[key] = Object.fromEntries(
        Object.entries(value as Schema).map(([name, sub]) => [name, withoutAnnotations(sub)]),
      );
    else if (['items', 'additionalProperties', 'if', 'then', 'else', 'not'].includes(key))
      out[key] = withoutAnnotations(value);
    else if (['allOf', 'anyOf', 'oneOf'].includes(key)) out[key] = (value as unknown[]).map(withoutAnnotations);
    else out[key] = value;
  }
  return out;
}

const payloadSchema = (message: string): Schema =>
  resolve<Schema>(RAW.components.messages[message]?.payload.$ref ?? `#/missing/${message}`);
const ajv = new Ajv({ allErrors: true, strict: false });

/** What each message's payload must be: the schema the code validates that message with. */
const CODE_SCHEMAS: Record<string, unknown> = {
  WorkflowStart: workflowStartSchema,
  StepCommand: stepCommandSchema,
  StepEvent: stepEventSchema,
  GovernanceRequest: governanceRequestSchema,
  GovernanceDecision: governanceDecisionSchema,
  OperatorCommand: operatorCommandSchema,
  ExternalEvent: externalEventSchema,
};

describe('docs/asyncapi.yaml', () => {
  it('is a valid AsyncAPI 3.0 document (no error-severity diagnostic)', async () => {
    const { document, diagnostics } = await new Parser().parse(TEXT);
    // Severity 0 is an error; warnings and hints (such as "a newer AsyncAPI version exists") are allowed.
    const errors = diagnostics
      .filter((d) => d.severity === 0)
      .map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
  });

  it('has a channel for every topic in Topics, the commands topic as a parameterised channel', () => {
    const addresses = Object.values(RAW.channels).map((c) => c.address);
    // The document names topics without a deployment's ORCHESTRON_TOPIC_PREFIX (it says so in its description).
    const unprefixed = topicNames();
    const fixed = Object.entries(unprefixed).flatMap(([key, t]) =>
      typeof t === 'string' && key !== 'prefix' ? [t] : [],
    );
    expect(fixed.length).toBe(7);
    for (const topic of fixed) expect(addresses).toContain(topic);
    expect(addresses).toContain(unprefixed.commands('{worker}'));
    expect(addresses).toHaveLength(fixed.length + 1);
  });

  it('declares, for each message, the payload schema the code validates it with', () => {
    expect(Object.keys(RAW.components.messages).sort()).toEqual([...Object.keys(CODE_SCHEMAS), 'DeadLetter'].sort());
    for (const [message, schema] of Object.entries(CODE_SCHEMAS)) {
      expect({ message, schema: withoutAnnotations(payloadSchema(message)) }).toEqual({
        message,
        schema: withoutAnnotations(JSON.parse(JSON.stringify(schema))),
      });
    }
  });

  it('describes the dead-letter record field by field as the Kafka bus writes it', () => {
    // Typed by the bus's own interface: a field added there fails the type check here until the document has it.
    const letter: Required<DeadLetterRecord> = {
      reason: 'WireFormatError: message orchestron.step.events/2@41 is not JSON',
      topic: Topics.stepEvents,
      partition: 2,
      offset: 41,
      group: 'orchestron-orchestrator',
      key: 'run-1',
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      original: Buffer.from('{not json').toString('base64'),
      originalEncoding: 'base64',
    };
    const schema = payloadSchema('DeadLetter');
    expect([...(schema.required as string[])].sort()).toEqual(Object.keys(letter).sort());
    expect(Object.keys(schema.properties as Schema).sort()).toEqual(Object.keys(letter).sort());
    expect(ajv.validate(schema, letter)).toBe(true);
    expect(ajv.validate(schema, { ...letter, original: null })).toBe(true);
    expect(ajv.validate(schema, { ...letter, originalEncoding: 'hex' })).toBe(false);
  });

  it('keys every message with a Kafka key binding and carries traceparent in its headers', async () => {
    const { document } = await new Parser().parse(TEXT);
    const messages = document?.messages().all() ?? [];
    expect(messages).toHaveLength(8);
    for (const message of messages) {
      const kafka = message.bindings().get('kafka')?.value() as { key?: { type?: string } } | undefined;
      expect({ message: message.id(), key: kafka?.key?.type }).toEqual({ message: message.id(), key: 'string' });
      expect({
        message: message.id(),
        traceparent: message.headers()?.properties()?.['traceparent'] !== undefined,
      }).toEqual({ message: message.id(), traceparent: true });
    }
  });

  it('gives examples that are valid messages', () => {
    let checked = 0;
    for (const [name, message] of Object.entries(RAW.components.messages)) {
      for (const example of message.examples ?? []) {
        const valid = ajv.validate(payloadSchema(name), example.payload);
        expect({ name, example: example.payload, errors: valid ? null : ajv.errors }).toEqual({
          name,
          example: example.payload,
          errors: null,
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });

  it('types every number of the protocol as an integer: deadlines, attempts, versions, counts and ms', () => {
    // Money is the one decimal: a cost reported, and a budget's cap.
    const DECIMALS = new Set([
      '#/components/schemas/WorkflowStart/properties/budget/properties/cost/properties/amount',
      '#/components/schemas/StepEvent/properties/usage/properties/cost/properties/amount',
    ]);
    const numbers: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      const type = (node as { type?: unknown }).type;
      const decimal = type === 'number' || (Array.isArray(type) && type.includes('number'));
      if (decimal && !DECIMALS.has(path)) numbers.push(path);
      for (const [key, value] of Object.entries(node)) walk(value, `${path}/${key}`);
    };
    walk(RAW.components.schemas, '#/components/schemas');
    expect(numbers).toEqual([]);
    const command = resolve<Schema>('#/components/schemas/StepCommand');
    const properties = command.properties as Record<string, { type: unknown }>;
    expect(properties.deadline?.type).toEqual(['integer', 'null']);
    expect(properties.heartbeatIntervalMs?.type).toEqual(['integer', 'null']);
    expect(command.required).toContain('heartbeatIntervalMs');
  });

  it('refuses a command with a non-integer deadline or heartbeat interval, in the document and in the code', () => {
    const valid: StepCommandMessage = {
      type: 'step.execute',
      runId: 'r',
      stepId: 's',
      attempt: 1,
      worker: 'w',
      action: null,
      input: null,
      idempotencyKey: 'r/s/1',
      deadline: 1_795_000_000_000,
      heartbeatIntervalMs: 10_000,
      definitionId: 'd',
    };
    const schema = payloadSchema('StepCommand');
    expect(ajv.validate(schema, valid)).toBe(true);
    expect(parseStepCommandMessage(valid)).toEqual(valid);
    for (const bad of [
      { deadline: 1_795_000_000_000.5 },
      { deadline: '1795000000000' },
      { heartbeatIntervalMs: 2.5 },
      { heartbeatIntervalMs: 0 },
      { heartbeatIntervalMs: -1 },
      { attempt: 1.5 },
      { heartbeatIntervalMs: undefined },
    ]) {
      const message = { ...valid, ...bad };
      expect({ bad, doc: ajv.validate(schema, message) }).toEqual({ bad, doc: false });
      expect(() => parseStepCommandMessage(message)).toThrow(WireFormatError);
    }
  });

  it('accepts the reports a worker built with the worker SDK really sends, with their headers', async () => {
    const bus = createInMemoryBus();
    const sent: DeliveredMessage[] = [];
    await bus.subscribe({ topics: [Topics.stepEvents], group: 'spy' }, async (m) => {
      sent.push(m);
    });
    const worker = createWorker({
      name: 'docs',
      bus,
      // Every kind of report, step.started included, which a quick attempt otherwise leaves out.
      reportStartedAfterMs: 0,
      handlers: {
        execute: async (ctx) => {
          await ctx.heartbeat();
          return { echoed: ctx.input };
        },
        decline: async () => {
          throw new TerminalError('card declined', 'PAYMENTS.DECLINED');
        },
        compensate: async () => undefined,
      },
    });
    await worker.start();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const command = (stepId: string, type: StepCommandMessage['type'], action: string | null): StepCommandMessage => ({
      type,
      runId: 'run-docs',
      stepId,
      attempt: 1,
      worker: 'docs',
      action,
      input: { n: 1 },
      deadline: Date.now() + 60_000,
      heartbeatIntervalMs: type === 'step.execute' ? 10_000 : null,
      definitionId: 'docs',
      idempotencyKey: type === 'step.execute' ? `run-docs/${stepId}/1` : `run-docs/${stepId}/compensate/1`,
    });
    const commands = [
      command('a', 'step.execute', null),
      command('b', 'step.execute', 'decline'),
      command('a', 'step.compensate', null),
    ];
    const commandSchema = payloadSchema('StepCommand');
    for (const c of commands) expect(ajv.validate(commandSchema, c)).toBe(true);
    await bus.publish(
      Topics.commands('docs'),
      commands.map((value) => ({ key: value.runId, value, headers: { traceparent } })),
    );
    for (
      let i = 0;
      i < 400 &&
      sent.filter((m) => ['step.completed', 'step.failed'].includes((m.value as { type: string }).type)).length < 3;
      i++
    )
      await sleep(5);
    await worker.stop();

    expect(new Set(sent.map((m) => (m.value as { type: string }).type))).toEqual(
      new Set(['step.started', 'step.heartbeat', 'step.completed', 'step.failed']),
    );
    const eventSchema = payloadSchema('StepEvent');
    const headerSchema = resolve<Schema>('#/components/schemas/TraceHeaders');
    for (const m of sent) {
      expect({ value: m.value, errors: ajv.validate(eventSchema, m.value) ? null : ajv.errors }).toEqual({
        value: m.value,
        errors: null,
      });
      expect(ajv.validate(headerSchema, m.headers)).toBe(true);
      expect(m.headers?.traceparent).toBe(traceparent);
      expect(m.key).toBe('run-docs');
    }
    // The schema is not a rubber stamp: a failure report without its error is refused.
    expect(
      ajv.validate(eventSchema, { type: 'step.failed', runId: 'r', stepId: 's', attempt: 1, phase: 'execute' }),
    ).toBe(false);
  });
});
