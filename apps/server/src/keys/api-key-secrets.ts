import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/*
 * The secret half of an API key. Keys Orchestron issues look like `orn_<key id>_<secret>`: the id finds the record
 * without trying every hash, and only the scrypt hash of the secret is stored. scrypt at N=2^14 costs about 47 ms
 * on a 2-core machine (measured with node:crypto), run on libuv's pool so the event loop does not wait for it.
 */

const PREFIX = 'orn';
const TOKEN = /^orn_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

export interface IssuedToken {
  readonly keyId: string;
  readonly token: string;
  readonly secret: string;
}

/** A new key id and secret, with the token a client sends. */
export function issueToken(): IssuedToken {
  const keyId = randomBytes(8).toString('hex').slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  return { keyId, secret, token: `${PREFIX}_${keyId}_${secret}` };
}

/** The key id and secret of an issued token, or null for any other text (a configured key, a typo). */
export function splitToken(token: string): { keyId: string; secret: string } | null {
  const match = TOKEN.exec(token);
  return match ? { keyId: match[1] as string, secret: match[2] as string } : null;
}

/** `scrypt$N$r$p$<salt>$<hash>`, base64url: the parameters travel with the hash so they can be raised later. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(secret, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(secret, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** What a verified token is remembered by: never the token itself. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

function derive(secret: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LENGTH, { ...params, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}
