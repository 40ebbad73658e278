// No import cycle anywhere (DESIGN.md, "The runtime"; STYLE.md principle 5), type-only imports included:
// a cycle through `import type` is still two modules that cannot be understood or moved apart.
// ESLint's import-x/no-cycle skips type-only imports, and the one cycle this repo has is made of them,
// so this check runs beside ESLint in `npm run lint` (test/lint/no-cycle.spec.ts shows it bites).

/**
 * Files of libs/runtime that form one import cycle today (engine.ts ↔ run-messages.ts ↔ bus-commands.ts ↔
 * run-service.ts ↔ governance-client.ts). The runtime redesign is taking it apart; until then their own
 * imports are not checked, and every other file's are. Remove the list when the cycle is gone: the lint test
 * fails while an entry is no longer part of a cycle.
 */
export const KNOWN_RUNTIME_CYCLE = [
  'libs/runtime/src/bus-commands.ts',
  'libs/runtime/src/engine.ts',
  'libs/runtime/src/governance-client.ts',
  'libs/runtime/src/run-messages.ts',
  'libs/runtime/src/run-service.ts',
];

const exactly = (paths) => `^(${paths.map((p) => p.replaceAll('.', '\\.')).join('|')})$`;

/** What `npm run lint` cruises: every folder with TypeScript of ours. */
export const CRUISED = ['libs', 'apps', 'test', 'tools', 'bench', 'bin'];

export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle anywhere, type-only imports included. Break it along the seam: move the shared types or helpers into a module both sides import.',
      from: { pathNot: exactly(KNOWN_RUNTIME_CYCLE) },
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '(^|/)dist/', '^test/fixtures/'] },
    // Workspace packages resolve through their package.json "exports", as Node resolves them.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
    cache: false,
  },
};
