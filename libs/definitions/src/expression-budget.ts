import { rawOf } from './cel-values.ts';

/**
 * What one evaluation may spend. Chosen so the worst expression over the largest input stays
 * within a few milliseconds of event-loop time (bench/expressions.bench.ts measures it;
 * docs/adr/0011-expression-budgets.md records why these numbers).
 */
export const EXPRESSION_LIMITS = Object.freeze({
  /** Cost units: one per evaluated node, plus the size of the values a size-dependent operation touches. */
  operations: 10_000,
  /** Characters in a string that an expression builds (concatenation, join, conversion). */
  stringLength: 100_000,
  /** Elements in a list or entries in a map that an operation builds. */
  collectionSize: 5_000,
  /** Size units of the value an expression returns, not counting parts of its context returned untouched. */
  resultSize: 100_000,
  /** Characters of expression source, and the parser's own limits. */
  sourceLength: 16_384,
  astNodes: 2_000,
  depth: 48,
  literalElements: 1_000,
});

/** Characters that cost one unit when a string is sized: copying and scanning take well under a nanosecond a character. */
export const CHARS_PER_UNIT = 256;

/** Thrown inside an evaluation; expressions.ts names the expression and turns it into ExpressionBudgetError. */
export class BudgetExceeded extends Error {
  readonly limit: string;
  readonly max: number;
  readonly detail: string;
  constructor(limit: string, max: number, detail: string) {
    super(`exceeded its budget of ${max} ${detail}`);
    this.limit = limit;
    this.max = max;
    this.detail = detail;
  }
}

/**
 * The spending of one evaluation. The first limit hit is kept: CEL's `exists` and `all` swallow
 * errors from elements another element outvotes, and a budget must not be swallowed that way.
 */
export class Meter {
  #left: number;
  failure: BudgetExceeded | undefined;

  constructor(operations = EXPRESSION_LIMITS.operations) {
    this.#left = operations;
  }

  spend(units: number): void {
    this.#left -= units;
    if (this.#left < 0) this.fail('operations', EXPRESSION_LIMITS.operations, 'operations');
  }

  fail(limit: string, max: number, detail: string): never {
    this.failure ??= new BudgetExceeded(limit, max, detail);
    throw this.failure;
  }

  /** Charges a value by its size, walking no further than the budget left; `skipViews` counts context values as 1. */
  charge(value: unknown, skipViews = false, charsPerUnit = CHARS_PER_UNIT): void {
    this.spend(sizeOf(value, this.#left + 1, skipViews, charsPerUnit));
  }

  /** Refuses a value an operation built when it is larger than a built value may be. */
  checkBuilt(value: unknown): void {
    if (typeof value === 'string') {
      if (value.length > EXPRESSION_LIMITS.stringLength)
        this.fail('stringLength', EXPRESSION_LIMITS.stringLength, 'characters in a string it builds');
      return;
    }
    if (value === null || typeof value !== 'object' || rawOf(value)) return;
    const count = Array.isArray(value)
      ? value.length
      : value instanceof Map || value instanceof Set
        ? value.size
        : value instanceof Uint8Array
          ? 0
          : Object.keys(value).length;
    if (count > EXPRESSION_LIMITS.collectionSize)
      this.fail('collectionSize', EXPRESSION_LIMITS.collectionSize, 'elements in a list or map it builds');
  }
}

/**
 * Size units of a value: 1 per scalar, element and entry, strings by length. Walks at most `cap`
 * units (returning `cap` when there are more), so sizing a huge or shared structure costs no more
 * than the budget it is charged against. Views are sized through their raw JSON, which is faster.
 */
export function sizeOf(value: unknown, cap: number, skipViews = false, charsPerUnit = CHARS_PER_UNIT): number {
  let total = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && total < cap) {
    const item = pending.pop();
    total += 1;
    if (typeof item === 'string') total += Math.floor(item.length / charsPerUnit);
    else if (item instanceof Uint8Array) total += Math.floor(item.length / charsPerUnit);
    else if (item !== null && typeof item === 'object') {
      const raw = rawOf(item);
      if (raw && skipViews) continue;
      const members = raw ?? item;
      if (Array.isArray(members)) pushAll(pending, members, cap - total);
      else if (members instanceof Map) pushAll(pending, [...members.values()], cap - total);
      else if (members instanceof Set) pushAll(pending, [...members], cap - total);
      else if (!(members instanceof Date)) pushAll(pending, Object.values(members), cap - total);
    }
  }
  return Math.min(total, cap);
}

function pushAll(pending: unknown[], items: readonly unknown[], room: number): void {
  const count = Math.min(items.length, Math.max(room, 0));
  for (let i = 0; i < count; i++) pending.push(items[i]);
}
