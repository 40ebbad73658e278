import type { CedarValueJson } from '@cedar-policy/cedar-wasm/nodejs';

/**
 * Keys that Cedar's JSON format reads as escapes (`{"__entity": …}` is an entity reference,
 * `{"__extn": …}` an extension value). Step and run inputs come from users, so letting these
 * through would let an input forge an entity or a decimal; they are dropped instead.
 */
const CEDAR_ESCAPE_KEYS: ReadonlySet<string> = new Set(['__entity', '__extn', '__expr']);

/**
 * Turns a JSON value into a value Cedar accepts, or `undefined` when there is nothing to pass.
 *
 * Cedar has no floats, no null and only 64-bit integers, so:
 * - safe integers stay numbers (Cedar `Long`);
 * - every other number (1.5, 1e300) becomes its decimal string (`"1.5"`), which policies can
 *   compare with `==` or `like`, or read with `decimal(...)`;
 * - `null` and `undefined` are dropped, from records and from arrays alike;
 * - arrays become Cedar sets, so order and duplicates are not kept;
 * - keys Cedar treats as escapes (`__entity`, `__extn`, `__expr`) are dropped.
 */
export function toCedarValue(value: unknown): CedarValueJson | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isSafeInteger(value) ? value : String(value);
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case 'object':
      if (value === null) return undefined;
      return Array.isArray(value) ? toCedarSet(value) : toCedarRecord(value as Record<string, unknown>);
    default:
      // undefined, functions and symbols have no JSON form, so nothing is passed.
      return undefined;
  }
}

/** A record with every attribute converted by `toCedarValue`; attributes with no value are left out. */
export function toCedarRecord(value: Readonly<Record<string, unknown>>): { [key: string]: CedarValueJson } {
  const record: { [key: string]: CedarValueJson } = {};
  for (const [key, raw] of Object.entries(value)) {
    if (CEDAR_ESCAPE_KEYS.has(key)) continue;
    const converted = toCedarValue(raw);
    if (converted !== undefined) record[key] = converted;
  }
  return record;
}

function toCedarSet(values: readonly unknown[]): CedarValueJson[] {
  const set: CedarValueJson[] = [];
  for (const raw of values) {
    const converted = toCedarValue(raw);
    if (converted !== undefined) set.push(converted);
  }
  return set;
}
