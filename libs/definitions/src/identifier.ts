import { QUOTE_MAX_CHARS, quoteForMessage } from './quote.ts';
import { IDENTIFIER_PATTERN } from './schema.ts';

/** The identifier rule (definition ids, step ids, workers) in words, for messages; the pattern is the schema's. */
export const IDENTIFIER_RULE = '1 to 63 characters of a-z, 0-9, - and _, starting with a letter or digit';

const IDENTIFIER_MAX_CHARS = 63;

/** A tenant id: what API keys, runs and definitions are scoped by (and a `workflow.start` message may name). */
export const TENANT_PATTERN = '^[a-z][a-z0-9-]{0,62}$';
export const TENANT_RULE = '1 to 63 characters of a-z, 0-9 and -, starting with a letter';
const identifier = new RegExp(IDENTIFIER_PATTERN);

export function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && identifier.test(value);
}

/** Why `value` is not an identifier, naming `field` and the rule and quoting at most 80 characters; null when it is one. */
export function identifierProblem(field: string, value: unknown): string | null {
  if (isIdentifier(value)) return null;
  const kind = Array.isArray(value) ? 'array' : typeof value;
  // A value cut in the message states its length already; one just over the rule's 63 says it here.
  const length =
    typeof value === 'string' && value.length > IDENTIFIER_MAX_CHARS && value.length <= QUOTE_MAX_CHARS
      ? ` (${value.length} characters)`
      : '';
  const got =
    typeof value === 'string'
      ? `${quoteForMessage(value)}${length}`
      : value === null
        ? 'null'
        : `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
  return `"${field}" must be ${IDENTIFIER_RULE}; got ${got}`;
}
