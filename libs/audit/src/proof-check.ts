/** Checks an inclusion proof offline: the event's hash from its content, its path to the root, the root's signature. */
import type { KeyObject } from 'node:crypto';
import { checkpointSignatureProblem } from './checkpoint.ts';
import { eventHash, eventLeaf } from './event-hash.ts';
import { rootFromProof } from './merkle.ts';
import type { InclusionProof } from './reading.ts';

/** Why the proof does not hold, or null when it does (and, with a key, the checkpoint is signed by it). */
export function proofProblem(proof: InclusionProof, publicKey?: KeyObject): string | null {
  const hash = eventHash(proof.event, proof.prev);
  if (hash !== proof.hash)
    return `the event at position ${proof.event.position} does not match the hash the proof gives for it: it was altered`;
  if (proof.treeSize !== proof.checkpoint.treeSize)
    return `the proof is for a tree of ${proof.treeSize} events, the checkpoint for ${proof.checkpoint.treeSize}`;
  const path = proof.path.map((h) => Buffer.from(h, 'hex'));
  const root = rootFromProof(proof.index, proof.treeSize, eventLeaf(hash), path);
  if (root === null || root.toString('hex') !== proof.checkpoint.rootHash)
    return `the path from event ${proof.index} does not lead to the checkpoint's root ${proof.checkpoint.rootHash}`;
  return publicKey === undefined ? null : checkpointSignatureProblem(proof.checkpoint, publicKey);
}
