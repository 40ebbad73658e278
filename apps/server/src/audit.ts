/**
 * The verifiable log in a server process: the notary over the store, its signing key, and what the audit routes read.
 * The key is ORCHESTRON_AUDIT_KEY_FILE, or `audit-signing.key` in the data dir, made there on first start.
 */
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { AuditNotary, AuditReader, loadOrCreateSigningKey } from '@orchestron/audit';
import type { EventStore } from '@orchestron/event-store';
import type { Logger } from '@orchestron/runtime';

export interface AuditService {
  readonly reader: AuditReader;
  readonly publicKey: KeyObject;
  close(): Promise<void>;
}

export interface AuditOptions {
  readonly store: EventStore;
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
}

/** Null when switched off (ORCHESTRON_AUDIT=off) or when the store keeps no read rows or checkpoints (KurrentDB). */
export function startAudit(options: AuditOptions): AuditService | null {
  const { store, env, logger } = options;
  if (env['ORCHESTRON_AUDIT'] === 'off') return null;
  if (store.readRows === undefined || store.checkpoints === undefined) {
    logger.warn('the audit log is off: this event store keeps no read rows or checkpoints beside the log');
    return null;
  }
  const keyFile = env['ORCHESTRON_AUDIT_KEY_FILE'];
  const signingKey = loadOrCreateSigningKey(
    keyFile ?? join(options.dataDir, 'audit-signing.key'),
    keyFile === undefined,
  );
  const notary = new AuditNotary({
    store,
    signingKey,
    onError: (error) =>
      logger.warn('the audit notary could not hash the newest events; it tries again', {
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  // Hashing a long log the first time takes a while: the server does not wait for it (the routes answer 503 until then).
  notary.start();
  return { reader: new AuditReader(store), publicKey: createPublicKey(signingKey), close: () => notary.stop() };
}
