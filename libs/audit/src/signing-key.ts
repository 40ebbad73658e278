/** The notary's Ed25519 signing key: read from a PEM file, or made there (mode 0600) on first use. */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function loadOrCreateSigningKey(path: string, create: boolean): KeyObject {
  if (existsSync(path)) {
    const key = createPrivateKey(readFileSync(path, 'utf8'));
    if (key.asymmetricKeyType !== 'ed25519')
      throw new Error(`${path} holds a ${String(key.asymmetricKeyType)} key; the audit signing key must be Ed25519`);
    return key;
  }
  if (!create) throw new Error(`the audit signing key ${path} does not exist`);
  const { privateKey } = generateKeyPairSync('ed25519');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  return privateKey;
}
