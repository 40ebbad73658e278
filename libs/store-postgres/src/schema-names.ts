/** Everything the adapter names after its Postgres schema, derived in one place. */
export interface SchemaNames {
  /** As given, e.g. `orchestron`. */
  readonly schemaName: string;
  /** Quoted for SQL, e.g. `"orchestron"`. */
  readonly schema: string;
  /** The NOTIFY channel appends announce their last position on. */
  readonly channel: string;
  /** The NOTIFY channel appends send their rows on (ADR 50). */
  readonly rowsChannel: string;
  /** Prefix for prepared statement names, which are per connection and so shared by every store on a pool. */
  readonly statementPrefix: string;
}

export const DEFAULT_SCHEMA = 'orchestron';

// Lower case only, so the name means the same quoted or not; 48 characters leave room for the suffixes within
// Postgres's 63-byte identifiers.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

export function schemaNames(schemaName: unknown = DEFAULT_SCHEMA): SchemaNames {
  if (typeof schemaName !== 'string' || !SCHEMA_NAME.test(schemaName)) {
    throw new TypeError('schema must be 1 to 48 lower-case letters, digits or underscores, not starting with a digit');
  }
  return {
    schemaName,
    schema: `"${schemaName}"`,
    channel: `${schemaName}_events`,
    rowsChannel: `${schemaName}_rows`,
    statementPrefix: `${schemaName}.`,
  };
}
