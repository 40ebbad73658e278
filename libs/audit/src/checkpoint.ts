/**
 * Signed checkpoints: the size and root of the log's Merkle tree at a time, signed with the server's Ed25519 key
 * (node:crypto), so anyone holding the public key can check a log, an export or a proof without trusting the server.
 */
import canonicalize from 'canonicalize';
import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export interface CheckpointBody {
  /** How many events the tree holds: the first `treeSize` events of the log, in position order. */
  readonly treeSize: number;
  /** The tree's root (RFC 9162 MTH), hex. */
  readonly rootHash: string;
  /** The global position of the last event in the tree (0 for the empty tree). */
  readonly position: number;
  /** When it was signed, ISO 8601. */
  readonly time: string;
  /**
   * When hashing began on this store, and how far the log was then. Events up to that position were recorded before
   * there was a hash to hold them to: an alteration made to them before that time cannot be caught.
   */
  readonly since: { readonly position: number; readonly time: string };
  /** The first 16 hex digits of the SHA-256 of the public key (DER SPKI). */
  readonly keyId: string;
}

export interface SignedCheckpoint extends CheckpointBody {
  /** Ed25519 over the RFC 8785 canonical JSON of the body, base64. */
  readonly signature: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

export function signCheckpoint(body: Omit<CheckpointBody, 'keyId'>, privateKey: KeyObject): SignedCheckpoint {
  const signed: CheckpointBody = { ...body, keyId: keyIdOf(createPublicKey(privateKey)) };
  return { ...signed, signature: sign(null, bodyBytes(signed), privateKey).toString('base64') };
}

/** Why the checkpoint's signature does not hold for this key, or null when it does. */
export function checkpointSignatureProblem(checkpoint: SignedCheckpoint, publicKey: KeyObject): string | null {
  const { signature, ...body } = checkpoint;
  const keyId = keyIdOf(publicKey);
  if (body.keyId !== keyId)
    return `the checkpoint was signed by key ${String(body.keyId)}, not by the key given (${keyId})`;
  const ok =
    typeof signature === 'string' && verify(null, bodyBytes(body), publicKey, Buffer.from(signature, 'base64'));
  return ok ? null : 'the checkpoint signature does not verify with the key given: the checkpoint was altered';
}

function bodyBytes(body: CheckpointBody): Buffer {
  const { treeSize, rootHash, position, time, since, keyId } = body;
  return Buffer.from(canonicalize({ treeSize, rootHash, position, time, since, keyId }) ?? '');
}
