import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { EMPTY_ROOT, inclusionProof, leafHash, MerkleFrontier, rootFromProof, rootOf } from './merkle.ts';

// The reference inputs and roots of Certificate Transparency's Merkle tree tests (RFC 6962 / RFC 9162 trees).
const INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));

describe('the RFC 9162 Merkle tree', () => {
  it('gives the reference roots of Certificate Transparency, whole and grown leaf by leaf', () => {
    const hashed = INPUTS.map((hex) => leafHash(Buffer.from(hex, 'hex')));
    const frontier = new MerkleFrontier();
    for (const [i, leaf] of hashed.entries()) {
      frontier.push(leaf);
      expect({ size: i + 1, root: frontier.root().toString('hex') }).toEqual({ size: i + 1, root: ROOTS[i] });
      expect(rootOf(hashed.slice(0, i + 1)).toString('hex')).toBe(ROOTS[i]);
    }
    expect(new MerkleFrontier().root()).toEqual(createHash('sha256').digest());
    expect(rootOf([])).toEqual(EMPTY_ROOT);
  });

  it('grows to the same root as the recursive definition at every size, and resumes from its saved subtrees', () => {
    const all = leaves(130);
    const frontier = new MerkleFrontier();
    for (const [i, leaf] of all.entries()) {
      frontier.push(leaf);
      expect(frontier.root()).toEqual(rootOf(all.slice(0, i + 1)));
      const resumed = MerkleFrontier.from(frontier.size, frontier.hashes);
      expect(resumed.root()).toEqual(frontier.root());
    }
    expect(frontier.hashes).toHaveLength(2); // 130 = 128 + 2
  });

  it('proves every leaf of every tree up to 70 leaves, and a proof for another leaf, size or path fails', () => {
    for (let size = 1; size <= 70; size++) {
      const all = leaves(size);
      const root = rootOf(all);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(index, all);
        expect(rootFromProof(index, size, all[index] as Buffer, proof)).toEqual(root);
        if (size > 1) {
          const other = (index + 1) % size;
          expect(rootFromProof(other, size, all[index] as Buffer, proof)).not.toEqual(root);
          expect(rootFromProof(index, size, all[index] as Buffer, proof.slice(1))).not.toEqual(root);
          const bent = proof.map((p, i) => (i === 0 ? leafHash(p) : p));
          expect(rootFromProof(index, size, all[index] as Buffer, bent)).not.toEqual(root);
        }
      }
    }
    expect(rootFromProof(3, 3, leaves(1)[0] as Buffer, [])).toBeNull();
    expect(() => inclusionProof(2, leaves(2))).toThrow('leaf 2 is not in a tree of 2 leaves');
  });
});
