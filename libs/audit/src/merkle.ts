/**
 * The Merkle tree of RFC 9162 (Certificate Transparency 2.0), section 2.1: leaf hashes SHA-256(0x00 || leaf),
 * interior nodes SHA-256(0x01 || left || right), a tree of n leaves split at the largest power of two below n.
 * No maintained npm package builds this tree and its proofs (see docs/adr/0025-a-verifiable-log.md).
 */
import { createHash } from 'node:crypto';

export type Hash = Buffer;

export function leafHash(leaf: Buffer): Hash {
  return createHash('sha256').update(Buffer.of(0)).update(leaf).digest();
}

export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/** SHA-256 of nothing: the root of the empty tree. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/**
 * The tree grown one leaf at a time, keeping only the roots of its perfect subtrees (at most log2 n of them): the
 * root of n leaves is those roots folded from the right, which is exactly MTH of RFC 9162.
 */
export class MerkleFrontier {
  #sizes: number[] = [];
  #hashes: Hash[] = [];
  #size = 0;

  static from(size: number, hashes: readonly string[]): MerkleFrontier {
    const frontier = new MerkleFrontier();
    frontier.#size = size;
    frontier.#sizes = perfectSubtrees(size);
    if (frontier.#sizes.length !== hashes.length)
      throw new Error(`a frontier of ${size} leaves has ${frontier.#sizes.length} subtrees, not ${hashes.length}`);
    frontier.#hashes = hashes.map((h) => Buffer.from(h, 'hex'));
    return frontier;
  }

  get size(): number {
    return this.#size;
  }

  /** The subtree roots, largest first, as hex (what a checkpoint keeps to go on from). */
  get hashes(): string[] {
    return this.#hashes.map((h) => h.toString('hex'));
  }

  push(leaf: Hash): void {
    let hash = leaf;
    let size = 1;
    while (this.#sizes.at(-1) === size) {
      this.#sizes.pop();
      hash = nodeHash(this.#hashes.pop() as Hash, hash);
      size *= 2;
    }
    this.#sizes.push(size);
    this.#hashes.push(hash);
    this.#size++;
  }

  root(): Hash {
    if (this.#hashes.length === 0) return EMPTY_ROOT;
    let root = this.#hashes.at(-1) as Hash;
    for (let i = this.#hashes.length - 2; i >= 0; i--) root = nodeHash(this.#hashes[i] as Hash, root);
    return root;
  }
}

/** The sizes of the perfect subtrees a tree of `size` leaves is made of, largest first (its binary digits). */
function perfectSubtrees(size: number): number[] {
  const sizes: number[] = [];
  for (let bit = 2 ** Math.floor(Math.log2(Math.max(size, 1))); bit >= 1; bit /= 2) if (size & bit) sizes.push(bit);
  return sizes;
}

/** MTH(D[n]) of RFC 9162 over leaf hashes. */
export function rootOf(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0] as Hash;
  const k = largestPowerOfTwoBelow(leaves.length);
  return nodeHash(rootOf(leaves.slice(0, k)), rootOf(leaves.slice(k)));
}

/** PATH(m, D[n]) of RFC 9162 section 2.1.3.1: the audit path of leaf `index` in the tree of these leaves. */
export function inclusionProof(index: number, leaves: readonly Hash[]): Hash[] {
  if (index < 0 || index >= leaves.length)
    throw new RangeError(`leaf ${index} is not in a tree of ${leaves.length} leaves`);
  if (leaves.length === 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  return index < k
    ? [...inclusionProof(index, leaves.slice(0, k)), rootOf(leaves.slice(k))]
    : [...inclusionProof(index - k, leaves.slice(k)), rootOf(leaves.slice(0, k))];
}

/**
 * The root an audit path leads to, by the verification algorithm of RFC 9162 section 2.1.3.2; null when the path
 * cannot be one for this index and tree size (too long or too short).
 */
export function rootFromProof(index: number, size: number, leaf: Hash, proof: readonly Hash[]): Hash | null {
  if (index < 0 || index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn / 2, Math.floor(sn / 2)];
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
