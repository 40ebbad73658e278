import { compileDefinition, quoteForMessage } from '@orchestron/definitions';
import type { CompiledDefinition } from '@orchestron/definitions';
import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore, RecordedEvent } from '@orchestron/event-store';

export const DEFINITION_STREAM_PREFIX = 'definition-';
const DEFINITION_REGISTERED = 'DefinitionRegistered';

export class DefinitionError extends Error {
  readonly code: 'DEFINITION.NOT_FOUND' | 'DEFINITION.VERSION_CONFLICT';
  readonly retryable = false;
  constructor(code: DefinitionError['code'], message: string) {
    super(message);
    this.name = 'DefinitionError';
    this.code = code;
  }
}

export interface RegisteredDefinition {
  readonly definition: CompiledDefinition;
  readonly registeredAt: string;
  readonly fingerprint: string;
}

/**
 * Definitions are versioned and stored as events (`definition-<id>`). A version, once registered, never
 * changes: registering the same content again is a no-op, different content under the same version is refused.
 */
export class DefinitionRegistry {
  private readonly byId = new Map<string, Map<number, RegisteredDefinition>>();
  private readonly store: EventStore;

  constructor(store: EventStore) {
    this.store = store;
  }

  apply(recorded: RecordedEvent): void {
    if (!recorded.streamId.startsWith(DEFINITION_STREAM_PREFIX) || recorded.type !== DEFINITION_REGISTERED) return;
    const data = recorded.data as { definition: CompiledDefinition; fingerprint: string };
    const versions = this.byId.get(data.definition.id) ?? new Map<number, RegisteredDefinition>();
    versions.set(data.definition.version, { definition: data.definition, registeredAt: recorded.recordedAt, fingerprint: data.fingerprint });
    this.byId.set(data.definition.id, versions);
  }

  async register(raw: unknown, actor: string): Promise<{ definition: CompiledDefinition; created: boolean }> {
    const definition = compileDefinition(raw);
    const fingerprint = JSON.stringify(definition);
    for (let tries = 0; ; tries++) {
      const known = this.byId.get(definition.id)?.get(definition.version);
      if (known) {
        if (known.fingerprint === fingerprint) return { definition: known.definition, created: false };
        throw new DefinitionError('DEFINITION.VERSION_CONFLICT', `${definition.id} v${definition.version} is already registered with different content; bump "version" to publish a change`);
      }
      const stream = `${DEFINITION_STREAM_PREFIX}${definition.id}`;
      const revision = await this.store.streamRevision(stream);
      try {
        const result = await this.store.append(stream, [{ type: DEFINITION_REGISTERED, data: { definition, fingerprint }, metadata: { actor } }], { expectedRevision: revision ?? 'no_stream' });
        this.apply({ id: '', streamId: stream, revision: result.nextExpectedRevision, position: result.position, type: DEFINITION_REGISTERED, data: { definition, fingerprint }, metadata: {}, recordedAt: new Date().toISOString() });
        return { definition, created: true };
      } catch (error) {
        if (!(error instanceof ExpectedVersionConflictError) || tries > 3) throw error;
        await this.catchUp(stream);
      }
    }
  }

  get(id: string, version?: number): CompiledDefinition {
    const versions = this.byId.get(id);
    if (!versions || versions.size === 0) throw new DefinitionError('DEFINITION.NOT_FOUND', `no definition ${quoteForMessage(id)} is registered`);
    const chosen = version === undefined ? versions.get(Math.max(...versions.keys())) : versions.get(version);
    if (!chosen) throw new DefinitionError('DEFINITION.NOT_FOUND', `definition ${quoteForMessage(id)} has no version ${version}; known: ${[...versions.keys()].join(', ')}`);
    return chosen.definition;
  }

  /** Like `get`, but reads the definition's stream first when this process has not seen it yet. */
  async resolve(id: string, version?: number): Promise<CompiledDefinition> {
    const known = this.byId.get(id);
    if (!known || (version !== undefined && !known.has(version))) await this.catchUp(`${DEFINITION_STREAM_PREFIX}${id}`);
    return this.get(id, version);
  }

  list(): { id: string; versions: number[]; latest: CompiledDefinition }[] {
    return [...this.byId.entries()].map(([id, versions]) => {
      const numbers = [...versions.keys()].sort((a, b) => a - b);
      return { id, versions: numbers, latest: (versions.get(numbers[numbers.length - 1] as number) as RegisteredDefinition).definition };
    });
  }

  private async catchUp(stream: string): Promise<void> {
    for (const event of await this.store.readStream(stream)) this.apply(event);
  }
}
