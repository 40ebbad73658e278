import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import stringify from 'safe-stable-stringify';

/**
 * sha256 (hex) of a JSON value's canonical text (sorted keys: stores such as PostgreSQL's jsonb do not keep key
 * order). The decider names the input governance was asked about by it, and a decision about any other input is
 * ignored; the governance service echoes it. Pure JS (@noble/hashes), since the domain does not import node:crypto.
 */
export function inputDigest(input: unknown): string {
  return bytesToHex(sha256(utf8ToBytes(stringify(input ?? null) ?? 'null')));
}
