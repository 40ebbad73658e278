import { EventStoreUnavailableError } from '@orchestron/event-store';

interface PgErrorFields {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly errors?: unknown;
}

/** The SQLSTATE of a server error; undefined for connection errors, which carry Node codes like ECONNREFUSED. */
function sqlState(error: unknown): string | undefined {
  const code = (error as PgErrorFields | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

/**
 * The only place a pg error is looked at: past this boundary callers see port errors. Whatever a pg call throws,
 * a refused connection, a dropped socket or a server error, means the backend failed the call.
 */
export function translatePostgresError(error: unknown, action: string): EventStoreUnavailableError {
  if (error instanceof EventStoreUnavailableError) return error;
  const code = (error as PgErrorFields | null)?.code;
  const suffix = typeof code === 'string' ? ` (${code})` : '';
  return new EventStoreUnavailableError(`postgres event store could not ${action}${suffix}: ${describeError(error)}`, {
    cause: error,
  });
}

/** Runs one pg call, translating what escapes it. */
export async function guarded<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translatePostgresError(error, action);
  }
}

/** Duck-typed, not `instanceof`: Node's socket errors come from another realm under Jest's VM modules. */
export function describeError(error: unknown): string {
  const { message, errors } = (error ?? {}) as PgErrorFields;
  if (typeof message === 'string' && message !== '') return message;
  // Connecting to a name with several addresses fails with an AggregateError whose own message is empty.
  if (Array.isArray(errors) && errors.length > 0) return errors.map(describeError).join('; ');
  return String(error);
}
