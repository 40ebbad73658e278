import { compileDefinition, quoteForMessage } from '@orchestron/definitions';
import type { CompiledDefinition } from '@orchestron/definitions';
import { OrchestronError } from '@orchestron/errors';
import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { DEFAULT_TENANT } from '@orchestron/workflow-core';

export const DEFINITION_STREAM_PREFIX = 'definition-';
const DEFINITION_REGISTERED = 'DefinitionRegistered';

export class DefinitionError extends OrchestronError<'DEFINITION.NOT_FOUND' | 'DEFINITION.VERSION_CONFLICT'> {
  constructor(code: DefinitionError['code'], message: string) {
    super(code, message);
    this.name = 'DefinitionError';
  }
}

/** A definition's stream: `definition-<id>` in the default tenant, `definition-<tenant>.<id>` in another (ids have no dots). */
export function definitionStream(tenant: string, id: string): string {
  return tenant === DEFAULT_TENANT ? `${DEFINITION_STREAM_PREFIX}${id}` : `${DEFINITION_STREAM_PREFIX}${tenant}.${id}`;
}

/** `latest`, or one version: which a start by id gets is always said, and recorded on the run. */
export type VersionChoice = number | 'latest';

export interface DefinitionEntry {
  readonly tenant: string;
  readonly id: string;
  readonly versions: number[];
  readonly latest: CompiledDefinition;
}

export interface RegisteredDefinition {
  readonly definition: CompiledDefinition;
  readonly registeredAt: string;
  readonly fingerprint: string;
}

/** One registered version, as a checkpoint holds it: `key` is `<tenant>/<id>`. */
export interface RegisteredVersion {
  readonly key: string;
  readonly version: number;
  readonly registered: RegisteredDefinition;
}

/**
 * Definitions are versioned, kept per tenant, and stored as events (`definition-<id>`, see definitionStream). A
 * version, once registered, never changes: registering the same content again is a no-op, different content under
 * the same version is refused. Each registration is an event carrying who registered it, recorded after what the
 * definition needs outside the store is provisioned (see Provision).
 */
/**
 * What a definition needs outside the store before it is recorded (its workers' command topics). It throws, and
 * nothing is registered, when that cannot be done now (the broker away): the caller retries.
 */
export type Provision = (definition: CompiledDefinition) => Promise<void>;
/** Told of every registration, a new version or the same content again: creates the schedules it declares. */
export type Registered = (definition: CompiledDefinition, tenant: string, actor: string) => Promise<void>;

export class DefinitionRegistry {
  private readonly byId = new Map<string, Map<number, RegisteredDefinition>>();
  private readonly store: EventStore;
  private readonly provision: Provision;
  private readonly registered: Registered;

  constructor(
    store: EventStore,
    provision: Provision = async () => undefined,
    registered: Registered = async () => undefined,
  ) {
    this.store = store;
    this.provision = provision;
    this.registered = registered;
  }

  apply(recorded: RecordedEvent): void {
    if (!recorded.streamId.startsWith(DEFINITION_STREAM_PREFIX) || recorded.type !== DEFINITION_REGISTERED) return;
    const data = recorded.data as { definition: CompiledDefinition; fingerprint: string; tenant?: string };
    const key = keyOf(data.tenant ?? DEFAULT_TENANT, data.definition.id);
    const versions = this.byId.get(key) ?? new Map<number, RegisteredDefinition>();
    versions.set(data.definition.version, {
      definition: data.definition,
      registeredAt: recorded.recordedAt,
      fingerprint: data.fingerprint,
    });
    this.byId.set(key, versions);
  }

  /** Every registered version, in the order the registry met them. Entries are never changed in place. */
  capture(): RegisteredVersion[] {
    return [...this.byId].flatMap(([key, versions]) =>
      [...versions].map(([version, registered]) => ({ key, version, registered })),
    );
  }

  /** Replaces everything the registry holds with a capture (a checkpoint restored at start). */
  restore(captured: readonly RegisteredVersion[]): void {
    this.byId.clear();
    for (const { key, version, registered } of captured) {
      const versions = this.byId.get(key) ?? new Map<number, RegisteredDefinition>();
      versions.set(version, registered);
      this.byId.set(key, versions);
    }
  }

  /** Whether exactly this content is registered already in the tenant (a start that carries it registers nothing). */
  isRegistered(raw: unknown, tenant: string = DEFAULT_TENANT): boolean {
    const definition = compileDefinition(raw);
    return (
      this.byId.get(keyOf(tenant, definition.id))?.get(definition.version)?.fingerprint === JSON.stringify(definition)
    );
  }

  async register(
    raw: unknown,
    actor: string,
    tenant: string = DEFAULT_TENANT,
    keyId?: string,
  ): Promise<{ definition: CompiledDefinition; created: boolean }> {
    const result = await this.record(raw, actor, tenant, keyId);
    // Also for the same content again: a crash after the record must not leave its schedules uncreated for good.
    await this.registered(result.definition, tenant, actor);
    return result;
  }

  private async record(
    raw: unknown,
    actor: string,
    tenant: string,
    keyId: string | undefined,
  ): Promise<{ definition: CompiledDefinition; created: boolean }> {
    const definition = compileDefinition(raw);
    const fingerprint = JSON.stringify(definition);
    const data = { definition, fingerprint, ...(tenant !== DEFAULT_TENANT ? { tenant } : {}) };
    for (let tries = 0; ; tries++) {
      const known = this.byId.get(keyOf(tenant, definition.id))?.get(definition.version);
      if (known) {
        if (known.fingerprint === fingerprint) return { definition: known.definition, created: false };
        throw new DefinitionError(
          'DEFINITION.VERSION_CONFLICT',
          `${definition.id} v${definition.version} is already registered with different content; a version never changes: bump "version" to publish a change`,
        );
      }
      // First, so that a registered definition's workers always find their command topics.
      if (tries === 0) await this.provision(definition);
      const stream = definitionStream(tenant, definition.id);
      const revision = await this.store.streamRevision(stream);
      try {
        const result = await this.store.append(
          stream,
          [
            {
              type: DEFINITION_REGISTERED,
              data,
              metadata: { actor, tenant, ...(keyId !== undefined ? { keyId } : {}) },
            },
          ],
          { expectedRevision: revision ?? 'no_stream' },
        );
        // The event as recorded, not a copy stamped with this process's clock: its registeredAt must be the one a
        // replay of the log gives (guarantee 9; `projections rebuild --verify` compares them).
        const recorded = await this.store.readStream(stream, {
          fromRevision: result.nextExpectedRevision,
          maxCount: 1,
        });
        for (const event of recorded) this.apply(event);
        return { definition, created: true };
      } catch (error) {
        if (!(error instanceof ExpectedVersionConflictError) || tries > 3) throw error;
        await this.catchUp(stream);
      }
    }
  }

  get(id: string, version: VersionChoice = 'latest', tenant: string = DEFAULT_TENANT): CompiledDefinition {
    const versions = this.byId.get(keyOf(tenant, id));
    if (!versions || versions.size === 0)
      throw new DefinitionError(
        'DEFINITION.NOT_FOUND',
        `no definition ${quoteForMessage(id)} is registered${tenant === DEFAULT_TENANT ? '' : ` in tenant ${tenant}`}`,
      );
    const chosen = version === 'latest' ? versions.get(Math.max(...versions.keys())) : versions.get(version);
    if (!chosen)
      throw new DefinitionError(
        'DEFINITION.NOT_FOUND',
        `definition ${quoteForMessage(id)} has no version ${version}; known: ${[...versions.keys()].join(', ')}`,
      );
    return chosen.definition;
  }

  /** Like `get`, but reads the definition's stream first when this process has not seen it yet. */
  async resolve(
    id: string,
    version: VersionChoice = 'latest',
    tenant: string = DEFAULT_TENANT,
  ): Promise<CompiledDefinition> {
    const known = this.byId.get(keyOf(tenant, id));
    if (!known || (version !== 'latest' && !known.has(version))) await this.catchUp(definitionStream(tenant, id));
    return this.get(id, version, tenant);
  }

  /** One tenant's definitions, or every tenant's when `tenant` is absent (an admin's view). */
  list(tenant?: string): DefinitionEntry[] {
    const out: DefinitionEntry[] = [];
    for (const [key, versions] of this.byId) {
      const [owner, id] = splitKey(key);
      if (tenant !== undefined && owner !== tenant) continue;
      const numbers = [...versions.keys()].sort((a, b) => a - b);
      out.push({
        tenant: owner,
        id,
        versions: numbers,
        latest: (versions.get(numbers[numbers.length - 1] as number) as RegisteredDefinition).definition,
      });
    }
    return out;
  }

  private async catchUp(stream: string): Promise<void> {
    for (const event of await this.store.readStream(stream)) this.apply(event);
  }
}

const keyOf = (tenant: string, id: string): string => `${tenant}/${id}`;

function splitKey(key: string): [tenant: string, id: string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
