import type { CedarValueJson } from '@cedar-policy/cedar-wasm/nodejs';
import { UnevaluableRequestError } from './unevaluable.error.ts';

/**
 * Keys that Cedar's JSON format reads as escapes (`{"__entity": …}` is an entity reference,
 * `{"__extn": …}` an extension value). Step and run inputs come from users, so letting these
 * through would let an input forge an entity or a decimal; they are dropped instead.
 */
const CEDAR_ESCAPE_KEYS: ReadonlySet<string> = new Set(['__entity', '__extn', '__expr']);

/**
 * How deep a value passed to Cedar may nest (records and sets). cedar-wasm 4 parses the request with serde_json's
 * recursion limit of 128, and the request itself wraps a context value in 3 levels: measured here, an input nested
 * 125 deep passes and 126 throws "recursion limit exceeded". 64 leaves room for a wrapper more in a later Cedar, and
 * no real step input comes near it.
 */
export const MAX_CEDAR_DEPTH = 64;

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
 *
 * Throws UnevaluableRequestError, naming the path (from `path`), for what Cedar would refuse outright: a string or key
 * holding a lone surrogate, or nesting deeper than MAX_CEDAR_DEPTH. Checked here rather than mapped from Cedar's
 * error, which names a column in JSON the caller never sees.
 */
export function toCedarValue(value: unknown, path = '$'): CedarValueJson | undefined {
  return convert(value, path, 0);
}

/** A record with every attribute converted by `toCedarValue`; attributes with no value are left out. */
export function toCedarRecord(value: Readonly<Record<string, unknown>>, path = '$'): { [key: string]: CedarValueJson } {
  return record(value, path, 0);
}

/** The string itself, when Cedar can take it. */
export function cedarString(value: string, path: string): string {
  // A lone surrogate is not Unicode; Cedar's JSON parser refuses the escape JSON.stringify writes for it.
  const lone = loneSurrogate(value);
  if (lone !== null)
    throw new UnevaluableRequestError(path, `the string holds a lone surrogate (${lone}), which is not valid Unicode`);
  return value;
}

function convert(value: unknown, path: string, depth: number): CedarValueJson | undefined {
  switch (typeof value) {
    case 'string':
      return cedarString(value, path);
    case 'boolean':
      return value;
    case 'number':
      return Number.isSafeInteger(value) ? value : String(value);
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case 'object':
      if (value === null) return undefined;
      if (depth >= MAX_CEDAR_DEPTH)
        throw new UnevaluableRequestError(
          path,
          `the value is nested deeper than ${MAX_CEDAR_DEPTH} levels, more than Cedar accepts`,
        );
      return Array.isArray(value)
        ? set(value, path, depth + 1)
        : record(value as Record<string, unknown>, path, depth + 1);
    default:
      // undefined, functions and symbols have no JSON form, so nothing is passed.
      return undefined;
  }
}

function record(
  value: Readonly<Record<string, unknown>>,
  path: string,
  depth: number,
): { [key: string]: CedarValueJson } {
  const converted: { [key: string]: CedarValueJson } = {};
  for (const [key, raw] of Object.entries(value)) {
    if (CEDAR_ESCAPE_KEYS.has(key)) continue;
    const at = `${path}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`;
    cedarString(key, `${at} (key)`);
    const one = convert(raw, at, depth);
    if (one !== undefined) converted[key] = one;
  }
  return converted;
}

function set(values: readonly unknown[], path: string, depth: number): CedarValueJson[] {
  const converted: CedarValueJson[] = [];
  values.forEach((raw, i) => {
    const one = convert(raw, `${path}[${i}]`, depth);
    if (one !== undefined) converted.push(one);
  });
  return converted;
}

/** Where the first unpaired surrogate is, or null when the string is well-formed UTF-16. */
function loneSurrogate(value: string): string | null {
  // The regex engine scans in native code; the loop below only runs on strings that have one.
  if (!/[\ud800-\udfff]/.test(value)) return null;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    const paired =
      unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    if (paired) i++;
    else if (unit >= 0xd800 && unit <= 0xdfff) return `\\u${unit.toString(16)} at index ${i}`;
  }
  return null;
}
