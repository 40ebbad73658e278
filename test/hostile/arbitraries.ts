import fc from 'fast-check';
import { RUN_STATUSES } from '@orchestron/workflow-core';
import { vendorPayment } from './examples.ts';
import type { Json } from './examples.ts';

/*
 * Generators of hostile input. Each yields a request (or message) with at least one defect by construction, so
 * every case must be refused: the suite asserts the refusal names what is wrong, never that something passed.
 */

export interface HostileText {
  /** What the defect is, for the failure message. */
  readonly defect: string;
  /** The body, as sent. */
  readonly text: string;
}

const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  '__defineGetter__',
] as const;
const FIELDS = new Set(['definition', 'definitionId', 'definitionVersion', 'input', 'idempotencyKey']);

export const deepArray = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
export const deepObject = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

const depth = fc.integer({ min: 65, max: 12_000 });
const deepText = fc.tuple(depth, fc.boolean()).map(([n, arrays]) => (arrays ? deepArray(n) : deepObject(n)));
const nonFinite = fc.constantFrom('1e309', '-1e309', '1.7976931348623157e309', '123e456789');
const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer({ min: 64, max: 300_000 }).map((n) => 'a'.repeat(n)),
  fc.constantFrom(
    '\u0000',
    '\ud800',
    '../../etc/passwd',
    "'; DROP TABLE events; --",
    '${{ input }}',
    '💥'.repeat(50),
    ' ',
    'A-B',
    'a.b',
    'a/b',
  ),
);
/** Whether a string can be percent-encoded into a URL (a lone surrogate cannot). */
const encodable = (s: string): boolean => !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
const urlSafe = (s: string): boolean => s.length > 0 && s.length < 20_000 && encodable(s);

/** An identifier the schema refuses: too long, a bad character, or empty. */
export const badIdentifier = fc.oneof(
  fc.integer({ min: 64, max: 1_048_576 }).map((n) => 'a'.repeat(n)),
  fc.constantFrom('', 'A', '-a', 'a b', 'a.b', 'a/b', 'a\u0000', '\ud800', 'é', 'a'.repeat(64)),
  fc
    .string({ minLength: 1, maxLength: 10 })
    .filter((s) => /[^a-z0-9_-]/.test(s))
    .map((s) => `x${s}`),
);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const validInput = { vendor: 'acme', amount: 10 };

/** A JSON text of `value` with `raw` spliced in where the placeholder string stands. */
function splice(value: Json, raw: string): string {
  return JSON.stringify(value).replace('"@@RAW@@"', raw);
}

/** A run input holding keys named like Object.prototype's members, and odd strings: legal data, to keep as it is. */
export const legalOddInput = fc
  .dictionary(
    fc
      .oneof(
        fc.constantFrom('constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', '💥'),
        fc.string({ maxLength: 8 }),
      )
      .filter((k) => k !== '__proto__'),
    fc.jsonValue({ maxDepth: 3 }),
    { maxKeys: 6 },
  )
  // The server refuses a "__proto__" key, and a "constructor" object with a "prototype" key, at any depth
  // (json-limits), so legal input holds neither, nested included (seeds 1307786904 and -1205402253 found them).
  .filter((meta) => !holdsRefusedKey(meta))
  // As it comes back from JSON: -0 is sent as 0.
  .map((meta) => ({ vendor: 'acme', amount: 10, meta: JSON.parse(JSON.stringify(meta)) as unknown }));

function holdsRefusedKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (!Array.isArray(value)) {
    if (Object.hasOwn(value, '__proto__')) return true;
    const ctor = (value as Record<string, unknown>)['constructor'];
    if (
      Object.hasOwn(value, 'constructor') &&
      typeof ctor === 'object' &&
      ctor !== null &&
      Object.hasOwn(ctor, 'prototype')
    )
      return true;
  }
  return Object.values(value).some(holdsRefusedKey);
}

export const startDefects: fc.Arbitrary<HostileText> = fc.oneof(
  fc
    .tuple(
      fc
        .oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ minLength: 1, maxLength: 20 }))
        .filter((k) => !FIELDS.has(k)),
      anyJson,
    )
    .map(([key, value]) => ({
      defect: `unknown top-level key ${JSON.stringify(key)}`,
      text: `{"definitionId":"vendor-payment","input":{"vendor":"acme","amount":10},${JSON.stringify(key)}:${JSON.stringify(value)}}`,
    })),
  fc
    .oneof(
      anyJson.filter((v) => typeof v !== 'string'),
      badIdentifier,
    )
    .map((definitionId) => ({ defect: 'bad definitionId', text: JSON.stringify({ definitionId, input: validInput }) })),
  fc
    .oneof(
      fc.constantFrom(0, -1, 1.5, 'newest', '1', true, null),
      fc.double({ noDefaultInfinity: true, noNaN: true }).filter((d) => !Number.isInteger(d)),
      fc.integer({ max: 0 }),
    )
    .map((definitionVersion) => ({
      defect: `bad definitionVersion ${JSON.stringify(definitionVersion)}`,
      text: JSON.stringify({ definitionId: 'vendor-payment', definitionVersion, input: validInput }),
    })),
  fc
    .oneof(
      fc.constantFrom(''),
      fc.integer({ min: 201, max: 5_000 }).map((n) => 'k'.repeat(n)),
      anyJson.filter((v) => typeof v !== 'string'),
    )
    .map((idempotencyKey) => ({
      defect: 'bad idempotencyKey',
      text: JSON.stringify({ definitionId: 'vendor-payment', input: validInput, idempotencyKey }),
    })),
  fc
    .oneof(
      fc.record({ vendor: fc.oneof(fc.constant(''), fc.integer()), amount: fc.integer({ min: 1 }) }),
      fc.record({
        vendor: fc.constant('acme'),
        amount: fc.oneof(
          fc.integer({ max: 0 }),
          fc.string(),
          fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
        ),
      }),
      fc.constantFrom(null, [], 'acme', 5, {}),
    )
    .map((input) => ({
      defect: "input against the definition's schema",
      text: JSON.stringify({ definitionId: 'vendor-payment', input }),
    })),
  deepText.map((deep) => ({
    defect: 'input nested too deep',
    text: `{"definitionId":"vendor-payment","input":${deep}}`,
  })),
  fc.tuple(nonFinite, fc.constantFrom('input', 'definitionVersion', 'nested')).map(([n, where]) => ({
    defect: `non-finite number ${n} in ${where}`,
    text:
      where === 'input'
        ? splice({ definitionId: 'vendor-payment', input: { vendor: 'a', amount: '@@RAW@@' } }, n)
        : where === 'nested'
          ? splice({ definitionId: 'vendor-payment', input: { vendor: 'a', amount: 1, extra: [{ x: '@@RAW@@' }] } }, n)
          : splice({ definitionId: 'vendor-payment', definitionVersion: '@@RAW@@', input: validInput }, n),
  })),
  fc
    .constantFrom(
      '{"__proto__":{"isAdmin":true},"definitionId":"vendor-payment"}',
      '{"definitionId":"vendor-payment","input":{"__proto__":{"x":1}}}',
      '{"constructor":{"prototype":{"x":1}},"definitionId":"vendor-payment"}',
    )
    .map((text) => ({ defect: 'prototype pollution', text })),
  fc
    .oneof(
      fc.string({ maxLength: 30 }).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      }),
      fc.constantFrom('{', '{"definitionId":', "{'a':1}", '{"a":NaN}', '{"a":1}}', '[1,]', '{"a":01}'),
    )
    .map((text) => ({ defect: 'not JSON', text })),
  fc.constantFrom('[]', '"text"', '42', 'null', 'true').map((text) => ({ defect: 'not an object', text })),
  fc.integer({ min: 10_001, max: 60_000 }).map((n) => ({
    defect: `an object of ${n} keys`,
    text: JSON.stringify({
      definitionId: 'vendor-payment',
      input: { vendor: 'a', amount: 1, flat: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 0])) },
    }),
  })),
  fc
    .string({ minLength: 1, maxLength: 30 })
    .filter((s) => /^[a-z][a-z0-9-]*$/.test(s) && s !== 'vendor-payment' && s !== 'employee-onboarding')
    .map((definitionId) => ({
      defect: 'unregistered definition',
      text: JSON.stringify({ definitionId, input: validInput }),
    })),
  fc
    .record({ amount: fc.integer({ min: 1 }), description: fc.string({ maxLength: 20 }) })
    .map(({ amount, description }) => ({
      defect: 'a producer registering a definition inline',
      text: JSON.stringify({
        definition: { ...vendorPayment, version: 2 + (amount % 50), description: `hijack ${description}` },
        input: { vendor: 'evil', amount },
      }),
    })),
);

/** Expressions a definition can hold that must be refused when it is registered. */
export const refusedExpressions = fc.oneof(
  fc.constantFrom(
    'input.s.matches("(a)\\\\1")',
    'input.s.matches("(?=a)")',
    'input.s.matches("(?<=a)b")',
    'input.s.matches("(a")',
    '1 +',
    '((((',
    'input..s',
    '"unterminated',
    // Names an expression never sees, and functions CEL does not have (checked when registered, issue 11).
    'process.mainModule.require("child_process")',
    'this',
    'constructor',
    '__proto__',
    'input.toString()',
    'input.constructor.constructor("return process")',
    'orchestron_evaluator()',
    'run.id + 1',
    'size(steps)',
    'steps[input.vendor].output',
    'steps["nope"].output',
    'input.xs.all(steps, steps)',
  ),
  fc.integer({ min: 49, max: 400 }).map((n) => `${'('.repeat(n)}1${')'.repeat(n)}`),
  fc.integer({ min: 16_385, max: 40_000 }).map((n) => `"${'a'.repeat(n)}"`),
  fc.integer({ min: 1_001, max: 3_000 }).map((n) => `[${Array.from({ length: n }, () => '1').join(',')}]`),
);

/** Definitions with one defect each, built on the vendor-payment example. */
export const definitionDefects: fc.Arbitrary<HostileText> = fc.oneof(
  badIdentifier.map((id) => ({ defect: 'bad definition id', text: JSON.stringify({ ...vendorPayment, id }) })),
  fc.oneof(fc.constantFrom(0, -1, 1.5, '2', null, 2 ** 60), fc.integer({ max: 0 })).map((version) => ({
    defect: `bad version ${JSON.stringify(version)}`,
    text: JSON.stringify({ ...vendorPayment, version }),
  })),
  nonFinite.map((n) => ({ defect: `version ${n}`, text: splice({ ...vendorPayment, version: '@@RAW@@' }, n) })),
  refusedExpressions.map((expression) => ({
    defect: `expression ${expression.slice(0, 40)}`,
    text: JSON.stringify({
      ...vendorPayment,
      version: 7,
      steps: {
        ...vendorPayment.steps,
        'pay-vendor': { ...vendorPayment.steps['pay-vendor'], input: { amount: `\${{ ${expression} }}` } },
      },
    }),
  })),
  fc
    .constantFrom(
      { a: { worker: 'w', needs: ['b'] }, b: { worker: 'w', needs: ['a'] } },
      { a: { worker: 'w', needs: ['nope'] } },
      { a: { worker: 'w', timeout: 'forever' } },
      { a: { type: 'task' } },
      { a: { worker: 'w', retry: { maxAttempts: -1 } } },
      { a: { worker: 'w', join: 'quorum(5)', needs: [] } },
      { a: { worker: 'w', surprise: true } },
      { a: { worker: 'w', compensate: {} } },
      {
        a: { worker: 'w' },
        b: { worker: 'w' },
        c: { worker: 'w', needs: ['a', 'b'], join: 'any_success', input: { x: '${{ steps.a.output.x }}' } },
      },
    )
    .map((steps) => ({
      defect: `steps ${JSON.stringify(steps)}`,
      text: JSON.stringify({ ...vendorPayment, version: 8, steps }),
    })),
  deepText.map((deep) => ({
    defect: 'nested too deep',
    text: `{"id":"deep","version":1,"steps":{"a":{"worker":"w","input":${deep}}}}`,
  })),
  hostileString
    .filter((s) => !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(s))
    .map((worker) => ({
      defect: 'bad worker name',
      text: JSON.stringify({ ...vendorPayment, version: 9, steps: { a: { worker } } }),
    })),
);

export const queryDefects = fc.oneof(
  fc
    .oneof(hostileString, fc.constantFrom('RUNNING', 'done', ''))
    .filter(encodable)
    .filter((s) => !(RUN_STATUSES as readonly string[]).includes(s))
    .map((status) => ({
      defect: `status ${status.slice(0, 20)}`,
      url: `/v1/runs?status=${encodeURIComponent(status)}`,
    })),
  fc
    .oneof(fc.constantFrom('0', '-1', '1.5', 'ten', '10001', '1e3x', ''), fc.integer({ min: 10_001 }).map(String))
    .map((limit) => ({ defect: `limit ${limit}`, url: `/v1/runs?limit=${encodeURIComponent(limit)}` })),
  badIdentifier.filter(urlSafe).map((definition) => ({
    defect: 'definition filter',
    url: `/v1/runs?definition=${encodeURIComponent(definition)}`,
  })),
  fc.oneof(fc.constant('globex'), badIdentifier.filter(urlSafe)).map((tenant) => ({
    defect: `tenant ${tenant.slice(0, 20)}`,
    url: `/v1/runs?tenant=${encodeURIComponent(tenant)}`,
  })),
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((k) => /^[a-z]+$/.test(k) && !['status', 'limit', 'definition', 'tenant', 'cursor'].includes(k))
    .map((key) => ({ defect: `unknown query ${key}`, url: `/v1/runs?${key}=1` })),
  fc
    .oneof(
      fc.constantFrom('0', '-1', '1.5', 'abc', '1e3', '99999999999999999'),
      fc.string({ minLength: 1, maxLength: 20 }),
    )
    .filter((cursor) => !/^[1-9]\d{0,15}$/.test(cursor))
    .map((cursor) => ({ defect: `cursor ${cursor}`, url: `/v1/runs?cursor=${encodeURIComponent(cursor)}` })),
  fc
    .oneof(
      fc.integer({ min: 129, max: 200_000 }).map((n) => 'r'.repeat(n)),
      fc.constantFrom('0197c9a2-0000-0000-0000-000000000000', 'nope', '%00'),
    )
    .map((id) => ({ defect: `run id ${id.slice(0, 20)}`, url: `/v1/runs/${encodeURIComponent(id)}` })),
  badIdentifier
    .filter(urlSafe)
    .map((id) => ({ defect: 'definition id', url: `/v1/definitions/${encodeURIComponent(id)}` })),
);

/** Operator action bodies that cannot apply to a completed run, or are malformed. */
export const actionDefects = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('approve', 'reject', 'retry', 'skip'),
      fc.oneof(
        fc.constant(undefined),
        fc.constant(''),
        fc.integer(),
        badIdentifier,
        fc.constantFrom('pay-vendor', 'nope'),
      ),
    )
    .map(([action, stepId]) => ({
      defect: `${action} with stepId ${JSON.stringify(stepId)?.slice(0, 20)}`,
      action,
      text: JSON.stringify({ ...(stepId !== undefined ? { stepId } : {}), output: null }),
    })),
  fc
    .constantFrom('pause', 'resume', 'compensate', 'cancel')
    .map((action) => ({ defect: `${action} of a completed run`, action, text: '{"reason":"attack"}' })),
  fc
    .oneof(hostileString, fc.constantFrom('APPROVE', 'delete', '../keys'))
    .filter(
      (a) =>
        urlSafe(a) && !['approve', 'reject', 'pause', 'resume', 'retry', 'skip', 'compensate', 'cancel'].includes(a),
    )
    .map((action) => ({ defect: `action ${action.slice(0, 20)}`, action: encodeURIComponent(action), text: '{}' })),
  deepText.map((deep) => ({
    defect: 'skip output nested too deep',
    action: 'skip',
    text: `{"stepId":"pay-vendor","output":${deep}}`,
  })),
  anyJson
    .filter((v) => typeof v !== 'string' && v !== null)
    .map((reason) => ({
      defect: `reason ${JSON.stringify(reason).slice(0, 20)}`,
      action: 'cancel',
      text: JSON.stringify({ reason }),
    })),
);
