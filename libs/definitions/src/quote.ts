/** How much of a client's string an error message repeats: enough to recognise it, never enough to amplify it. */
export const QUOTE_MAX_CHARS = 80;

/**
 * A string from outside (an id, a key, a field name) as an error message quotes it: JSON-quoted, cut to
 * `max` characters with its full length after it when longer, e.g. `"aaaa…" (1048576 characters)`. A 1 MB
 * id echoed whole would turn every refusal into a megabyte response.
 */
export function quoteForMessage(value: string, max: number = QUOTE_MAX_CHARS): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(`${value.slice(0, max)}…`)} (${value.length} characters)`;
}
