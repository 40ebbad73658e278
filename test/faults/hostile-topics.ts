// The hostile-input suite against the stack itself: malformed messages on every topic its services consume, forged
// reports for steps and runs that do not exist, and defective requests to its API. Every message must reach the
// dead-letter topic with a reason, every request must be a 4xx, no service may die, and the stack must still serve.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Consumer, MessagesStreamModes, Producer } from '@platformatic/kafka';
import {
  parseExternalEventMessage,
  parseGovernanceDecisionMessage,
  parseGovernanceRequestMessage,
  parseOperatorCommandMessage,
  parseStepCommandMessage,
  parseStepEventMessage,
  parseWorkflowStartMessage,
  Topics,
} from '@orchestron/bus';
import { alive } from '../../tools/stack/stack.ts';
import { completePayment } from '../../tools/stack/stack-runs.ts';
import { actionDefects, definitionDefects, queryDefects, startDefects } from '../hostile/arbitraries.ts';
import { hostileBytes, hostileMessage } from '../hostile/wire-arbitraries.ts';
import type { FaultTarget } from './faults.ts';

export interface HostileResult {
  /** Malformed messages published, and forged reports for unknown steps and runs. */
  readonly published: number;
  /** Of those, found in the dead-letter topic with a reason. */
  readonly deadLettered: number;
  readonly withoutReason: number;
  readonly requests: number;
  /** Requests answered otherwise than with a 4xx, first few. */
  readonly notRefused: readonly string[];
  readonly deadServices: readonly string[];
  /** A payment started and completed after the storm, ms. */
  readonly afterwardMs: number | undefined;
  readonly ok: boolean;
}

const HEADER = 'x-orchestron-hostile';
const PARSERS: Readonly<Record<string, (value: unknown) => unknown>> = {
  [Topics.stepEvents]: parseStepEventMessage,
  [Topics.workflowStarts]: parseWorkflowStartMessage,
  [Topics.operatorCommands]: parseOperatorCommandMessage,
  [Topics.externalEvents]: parseExternalEventMessage,
  [Topics.governanceDecisions]: parseGovernanceDecisionMessage,
  [Topics.governanceRequests]: parseGovernanceRequestMessage,
  [Topics.commands('mail')]: parseStepCommandMessage,
};

const refusedBy = (parse: (value: unknown) => unknown, value: unknown): boolean => {
  try {
    parse(value);
    return false;
  } catch {
    return true;
  }
};

export async function runHostile(options: {
  readonly world: FaultTarget;
  readonly count: number;
  readonly seed: number;
  /** A completed vendor-payment run: operator actions are aimed at it, forged reports too. */
  readonly witness: string;
  readonly log: (line: string) => void;
}): Promise<HostileResult> {
  const { world, count, seed, log } = options;
  const tag = `${seed}-${Date.now().toString(36)}`;
  const brokers = [...world.broker.brokers];
  const letters = await deadLetterReader(brokers, tag);
  const producer = new Producer({
    clientId: `faults-hostile-${tag}`,
    bootstrapBrokers: brokers,
    retries: 8,
    timeout: 10_000,
  });
  const sent: string[] = [];
  const tooBig: string[] = [];
  try {
    const records: { topic: string; key: Buffer; value: Buffer; headers: Map<Buffer, Buffer> }[] = [];
    const add = (topic: string, key: string, value: string): void => {
      const id = `${tag}-${records.length}`;
      sent.push(id);
      records.push({
        topic,
        key: Buffer.from(key),
        value: Buffer.from(value),
        headers: new Map([[Buffer.from(HEADER), Buffer.from(id)]]),
      });
    };
    const topics = Object.keys(PARSERS);
    const messages = fc.sample(fc.tuple(hostileMessage, fc.constantFrom(...topics)), { numRuns: count * 3, seed });
    for (const [value, topic] of messages) {
      if (records.length >= count) break;
      const text = JSON.stringify(value);
      if (text !== undefined && refusedBy(PARSERS[topic] as (v: unknown) => unknown, value))
        add(topic, options.witness, text);
    }
    for (const [text, topic] of fc.sample(fc.tuple(hostileBytes, fc.constantFrom(...topics)), { numRuns: count, seed }))
      add(topic, options.witness, text);
    // Well-formed reports that change nothing a run has: a step it does not have, and a run that does not exist.
    const report = (runId: string, stepId: string): string =>
      JSON.stringify({ type: 'step.completed', runId, stepId, attempt: 1, phase: 'execute', output: { forged: true } });
    for (let i = 0; i < Math.max(5, count / 20); i++) {
      add(Topics.stepEvents, options.witness, report(options.witness, `no-such-step-${i}`));
      const stranger = randomUUID();
      add(Topics.stepEvents, stranger, report(stranger, 'pay-vendor'));
    }
    // One at a time: the broker refuses a record batch over its message.max.bytes (1 MB) as a whole, and a hostile
    // message that big alone never reaches a service, so it is not expected on the dead-letter topic either.
    for (const record of records) {
      try {
        await producer.send({ messages: [record] });
      } catch (error) {
        if (!tooLarge(error)) throw error;
        const id = headerId(record);
        const at = sent.indexOf(id);
        if (at >= 0) sent.splice(at, 1);
        tooBig.push(id);
      }
    }
    log(
      `  hostile: published ${sent.length} messages to ${topics.length} topics` +
        (tooBig.length > 0 ? ` (${tooBig.length} more refused by the broker as too large)` : ''),
    );
  } finally {
    await producer.close();
  }
  const http = await hostileRequests(world, count, seed, options.witness);
  log(`  hostile: sent ${http.requests} defective requests to the API`);
  const found = await letters.collect(new Set(sent), 90_000);
  const deadServices = world.stack.processes.filter((p) => !alive(p.pid)).map((p) => p.name);
  let afterwardMs: number | undefined;
  try {
    afterwardMs = await completePayment(world.stack, `hostile-after-${tag}`, 60_000);
  } catch (error) {
    log(`  hostile: the payment after the storm failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const withoutReason = [...found.values()].filter((reason) => reason.trim() === '').length;
  const missing = sent.filter((id) => !found.has(id));
  if (missing.length > 0) log(`  hostile: not dead-lettered within 90 s: ${missing.slice(0, 5).join(', ')}…`);
  return {
    published: sent.length,
    deadLettered: found.size,
    withoutReason,
    requests: http.requests,
    notRefused: http.notRefused,
    deadServices,
    afterwardMs,
    ok:
      missing.length === 0 &&
      withoutReason === 0 &&
      http.notRefused.length === 0 &&
      deadServices.length === 0 &&
      afterwardMs !== undefined,
  };
}

/** Reads the dead-letter topic from its start, keeping each letter that carries our header: id → reason. */
async function deadLetterReader(brokers: string[], tag: string) {
  const consumer = new Consumer({
    clientId: `faults-dlq-${tag}`,
    groupId: `faults-dlq-${tag}`,
    bootstrapBrokers: brokers,
    autocommit: false,
    maxWaitTime: 500,
  });
  const found = new Map<string, string>();
  const stream = await consumer.consume({
    topics: [Topics.deadLetters],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
  });
  stream.on('data', (message: { headers: Map<Buffer, Buffer>; value: Buffer }) => {
    for (const [name, value] of message.headers) {
      if (name.toString() !== HEADER) continue;
      found.set(value.toString(), reasonOf(message.value));
    }
  });
  return {
    async collect(wanted: ReadonlySet<string>, timeoutMs: number): Promise<Map<string, string>> {
      const deadline = Date.now() + timeoutMs;
      while ([...wanted].some((id) => !found.has(id)) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 250));
      await stream.close().catch(() => undefined);
      await consumer.close(true).catch(() => undefined);
      return found;
    },
  };
}

function reasonOf(letter: Buffer): string {
  try {
    return String((JSON.parse(letter.toString()) as { reason?: unknown }).reason ?? '');
  } catch {
    return '';
  }
}

/** Defective requests of every kind, each of which must be refused with a 4xx. */
async function hostileRequests(
  world: FaultTarget,
  count: number,
  seed: number,
  witness: string,
): Promise<{ requests: number; notRefused: string[] }> {
  const notRefused: string[] = [];
  let requests = 0;
  const send = async (
    method: 'GET' | 'POST',
    path: string,
    role: 'producer' | 'operator',
    body?: string,
  ): Promise<void> => {
    requests++;
    const response = await fetch(`${world.stack.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${world.stack.keys[role]}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if ((response.status < 400 || response.status >= 500) && notRefused.length < 10)
      notRefused.push(`${method} ${path.slice(0, 60)}: HTTP ${response.status} ${text.slice(0, 200)}`);
  };
  const n = Math.max(10, Math.round(count / 4));
  for (const { text } of fc.sample(startDefects, { numRuns: n, seed }))
    await send('POST', '/v1/runs', 'producer', text);
  for (const { text } of fc.sample(definitionDefects, { numRuns: n, seed }))
    await send('POST', '/v1/definitions', 'operator', text);
  for (const { url } of fc.sample(queryDefects, { numRuns: n, seed })) await send('GET', url, 'producer');
  for (const { action, text } of fc.sample(actionDefects, { numRuns: n, seed }))
    await send('POST', `/v1/runs/${witness}/actions/${action}`, 'operator', text);
  return { requests, notRefused };
}

function headerId(record: { headers: Map<Buffer, Buffer> }): string {
  for (const [key, value] of record.headers) if (key.toString() === HEADER) return value.toString();
  return '';
}

/** The broker's MESSAGE_TOO_LARGE, somewhere in the client's aggregate of errors. */
function tooLarge(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { apiId, errors } = error as { apiId?: unknown; errors?: unknown };
  if (apiId === 'MESSAGE_TOO_LARGE') return true;
  return Array.isArray(errors) && errors.some(tooLarge);
}
