// No import cycle anywhere (DESIGN.md, "The runtime"; STYLE.md principle 5), type-only imports included:
// a cycle through `import type` is still two modules that cannot be understood or moved apart.
// ESLint's import-x/no-cycle skips type-only imports (the last cycle this repo had was made of them),
// so this check runs beside ESLint in `npm run lint` (test/lint/no-cycle.spec.ts shows it bites).

/** What `npm run lint` cruises: every folder with TypeScript of ours. */
export const CRUISED = ['libs', 'apps', 'test', 'tools', 'bench', 'bin'];

export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycle anywhere, type-only imports included. Break it along the seam: move the shared types or helpers into a module both sides import.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '(^|/)dist/', '^test/fixtures/'] },
    // Workspace packages resolve through their package.json "exports", as Node resolves them.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs'],
    },
    cache: false,
  },
};
