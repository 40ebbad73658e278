import { OrchestronError } from '@orchestron/errors';
import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { DEFAULT_TENANT } from '../http/auth.ts';
import type { ApiKey, Authenticator, Principal, Role } from '../http/auth.ts';
import { digest, hashSecret, issueToken, splitToken, verifySecret } from './api-key-secrets.ts';

/** The stream of key events: creations and revocations, each with who did it. Hashes only, never secrets. */
export const KEYS_STREAM = 'orchestron-api-keys';
const REFRESH_MS = 5_000;
/** Failed verifications of one key id before further tries are refused without hashing, for a minute. */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 60_000;

export interface KeyView {
  readonly id: string;
  readonly role: Role;
  readonly subject: string;
  readonly tenant: string;
  /** Groups the key holds, matched against approval gates' `assignees`. */
  readonly groups: readonly string[];
  /** `config`: from ORCHESTRON_API_KEYS or admin.key (change it there); `api`: issued through /v1/keys. */
  readonly source: 'config' | 'api';
  readonly createdAt: string | null;
  readonly createdBy: string | null;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

export interface NewKey {
  readonly role: Role;
  readonly subject: string;
  readonly tenant: string;
  /** Default none. */
  readonly groups?: readonly string[];
  readonly expiresAt: string | null;
}

export class KeyError extends OrchestronError<'KEY.NOT_FOUND' | 'KEY.NOT_REVOCABLE' | 'KEY.STORE_MISSING'> {
  constructor(code: KeyError['code'], message: string) {
    super(code, message);
    this.name = 'KeyError';
  }
}

/** `groups` is absent from keys created before keys had groups. */
type Created = {
  keyId: string;
  role: Role;
  subject: string;
  tenant: string;
  groups?: readonly string[];
  hash: string;
  expiresAt: string | null;
};
type Stored = KeyView & { readonly hash: string | null };

export interface KeyRingOptions {
  /** Keys from configuration: always live, never revocable through the API. */
  readonly config: readonly ApiKey[];
  /** Where issued keys are kept; without one, /v1/keys can only list the configured keys. */
  readonly store?: EventStore;
  readonly now?: () => number;
  /** How often issued keys and revocations written by other API processes are read (default 5 s). */
  readonly refreshMs?: number;
  /** Told when a periodic read of the keys fails (the keys known before stay in force). */
  readonly onRefreshError?: (error: unknown) => void;
}

/**
 * Every API key the server accepts. Configured keys are matched by their SHA-256 digest; issued keys are found by
 * their id and checked against a scrypt hash, once per process: a verified token's digest is remembered, so later
 * calls cost one SHA-256. Revocations and expiry apply to remembered tokens too.
 */
export class KeyRing implements Authenticator {
  readonly #byDigest = new Map<string, Stored>();
  readonly #byId = new Map<string, Stored>();
  readonly #verified = new Map<string, string>();
  readonly #failures = new Map<string, { count: number; since: number }>();
  readonly #store: EventStore | undefined;
  readonly #now: () => number;
  #revision = -1;
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(options: KeyRingOptions) {
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    for (const key of options.config) {
      const stored: Stored = {
        id: `cfg-${key.name}`,
        role: key.role,
        subject: key.name,
        tenant: key.tenant ?? DEFAULT_TENANT,
        groups: key.groups ?? [],
        source: 'config',
        createdAt: null,
        createdBy: null,
        expiresAt: null,
        revokedAt: null,
        hash: null,
      };
      this.#byDigest.set(digest(key.key), stored);
      this.#byId.set(stored.id, stored);
    }
  }

  static async open(options: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(options);
    await ring.refresh();
    if (ring.#store) {
      ring.#timer = setInterval(
        () => void ring.refresh().catch((error: unknown) => options.onRefreshError?.(error)),
        options.refreshMs ?? REFRESH_MS,
      );
      ring.#timer.unref();
    }
    return ring;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async authenticate(token: string): Promise<Principal | null> {
    const configured = this.#byDigest.get(digest(token));
    if (configured) return principal(configured);
    const parts = splitToken(token);
    if (!parts) return null;
    const key = this.#byId.get(parts.keyId);
    if (!key?.hash || !this.#live(key)) return null;
    if (this.#verified.get(key.id) === digest(token)) return principal(key);
    if (this.#throttled(key.id)) return null;
    if (!(await verifySecret(parts.secret, key.hash))) {
      this.#failed(key.id);
      return null;
    }
    this.#verified.set(key.id, digest(token));
    return principal(key);
  }

  /** Issues a key; the token is returned here once and stored nowhere. */
  async create(request: NewKey, actor: Principal): Promise<{ key: KeyView; token: string }> {
    const store = this.#requireStore();
    const issued = issueToken();
    const data: Created = {
      keyId: issued.keyId,
      role: request.role,
      subject: request.subject,
      tenant: request.tenant,
      groups: request.groups ?? [],
      hash: await hashSecret(issued.secret),
      expiresAt: request.expiresAt,
    };
    await store.append(KEYS_STREAM, [{ type: 'ApiKeyCreated', data, metadata: meta(actor) }]);
    await this.refresh();
    return { key: view(this.#byId.get(issued.keyId) as Stored), token: issued.token };
  }

  async revoke(keyId: string, actor: Principal, reason: string | null): Promise<KeyView> {
    const key = this.#byId.get(keyId);
    if (!key) throw new KeyError('KEY.NOT_FOUND', `no key has the id ${JSON.stringify(keyId.slice(0, 80))}`);
    if (key.source === 'config')
      throw new KeyError(
        'KEY.NOT_REVOCABLE',
        `${keyId} comes from the server's configuration (ORCHESTRON_API_KEYS or admin.key): remove it there`,
      );
    if (key.revokedAt !== null) return view(key);
    await this.#requireStore().append(KEYS_STREAM, [
      { type: 'ApiKeyRevoked', data: { keyId, reason }, metadata: meta(actor) },
    ]);
    await this.refresh();
    return view(this.#byId.get(keyId) as Stored);
  }

  /** One tenant's keys, or every key when `tenant` is absent. */
  list(tenant?: string): KeyView[] {
    return [...this.#byId.values()].filter((k) => tenant === undefined || k.tenant === tenant).map(view);
  }

  /** Reads key events written since the last read (by this process or another API process). */
  async refresh(): Promise<void> {
    if (!this.#store) return;
    const events = await this.#store.readStream(KEYS_STREAM, { fromRevision: this.#revision + 1 });
    for (const event of events) this.#apply(event);
  }

  #apply(event: RecordedEvent): void {
    this.#revision = Math.max(this.#revision, event.revision);
    const actor = typeof event.metadata.actor === 'string' ? event.metadata.actor : null;
    if (event.type === 'ApiKeyCreated') {
      const d = event.data as Created;
      this.#byId.set(d.keyId, {
        id: d.keyId,
        role: d.role,
        subject: d.subject,
        tenant: d.tenant,
        groups: d.groups ?? [],
        source: 'api',
        createdAt: event.recordedAt,
        createdBy: actor,
        expiresAt: d.expiresAt,
        revokedAt: null,
        hash: d.hash,
      });
    } else if (event.type === 'ApiKeyRevoked') {
      const { keyId } = event.data as { keyId: string };
      const key = this.#byId.get(keyId);
      if (key) this.#byId.set(keyId, { ...key, revokedAt: event.recordedAt });
      this.#verified.delete(keyId);
    }
  }

  #live(key: Stored): boolean {
    return key.revokedAt === null && (key.expiresAt === null || Date.parse(key.expiresAt) > this.#now());
  }

  #throttled(keyId: string): boolean {
    const failures = this.#failures.get(keyId);
    if (!failures || this.#now() - failures.since > FAILURE_WINDOW_MS) return false;
    return failures.count >= MAX_FAILURES;
  }

  #failed(keyId: string): void {
    const failures = this.#failures.get(keyId);
    const now = this.#now();
    this.#failures.set(
      keyId,
      failures && now - failures.since <= FAILURE_WINDOW_MS
        ? { count: failures.count + 1, since: failures.since }
        : { count: 1, since: now },
    );
  }

  #requireStore(): EventStore {
    if (!this.#store)
      throw new KeyError(
        'KEY.STORE_MISSING',
        'this server keeps no issued keys (it was given no event store); configure keys in ORCHESTRON_API_KEYS',
      );
    return this.#store;
  }
}

function principal(key: Stored): Principal {
  return { keyId: key.id, subject: key.subject, tenant: key.tenant, role: key.role, groups: key.groups };
}

function view(key: Stored): KeyView {
  const { hash: _hash, ...rest } = key;
  return rest;
}

function meta(actor: Principal): Record<string, string> {
  return { actor: `${actor.role}:${actor.subject}`, keyId: actor.keyId, tenant: actor.tenant };
}
