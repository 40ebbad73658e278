import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateSigningKey } from './signing-key.ts';

describe('the audit signing key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orchestron-audit-key-'));

  it('is made on first use, in a directory that does not exist yet, readable by its owner only, and read back', () => {
    const path = join(dir, 'api', 'audit-signing.key');
    const made = loadOrCreateSigningKey(path, true);
    expect(made.asymmetricKeyType).toBe('ed25519');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = loadOrCreateSigningKey(path, true);
    expect(again.export({ type: 'pkcs8', format: 'der' })).toEqual(made.export({ type: 'pkcs8', format: 'der' }));
  });

  it('refuses a key of another kind, and a named file that does not exist', () => {
    const rsa = join(dir, 'rsa.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(rsa, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => loadOrCreateSigningKey(rsa, false)).toThrow(
      `${rsa} holds a rsa key; the audit signing key must be Ed25519`,
    );
    expect(() => loadOrCreateSigningKey(join(dir, 'none.pem'), false)).toThrow('does not exist');
  });
});
