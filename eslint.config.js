// Lint is where the architecture is enforced, not review (STYLE.md, principle 5).
// Each layer rule below has a test in test/lint/ that plants a violation and expects this config to refuse it.
// Import cycles are checked by dependency-cruiser beside ESLint (.dependency-cruiser.mjs says why).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

/** The error family is as pure as the domain, so every lib may import it. */
const DOMAIN_LIBS = ['errors', 'workflow-core', 'definitions', 'policy'];
const APPS = ['cli', 'governance', 'orchestrator', 'server', 'workers'];
const srcOf = (lib) => `libs/${lib}/src/**/*.ts`;

const KAFKA_CLIENTS = ['kafkajs', '@confluentinc/*', '@platformatic/kafka'];
const STORE_CLIENTS = ['@kurrent/*', '@eventstore/*', 'pg', 'pg-*', 'postgres', 'better-sqlite3'];
const DEEP_IMPORT = {
  group: ['@orchestron/*/src/*', '@orchestron/*/lib/*'],
  message: 'Import a lib through its public entry, not its internals.',
};
const NO_APPS = {
  group: APPS.map((app) => `@orchestron/${app}`),
  message: 'Libs must not import apps: apps are the edge, libs are what they are built from.',
};

/** Domain libs stay pure: only other domain libs, no framework, broker, event-store client or Node built-in. */
const NOT_A_DOMAIN_LIB = {
  regex: `^@orchestron/(?!(${DOMAIN_LIBS.join('|')})(/|$))`,
  message: `Domain libs import only domain libs (${DOMAIN_LIBS.map((lib) => `@orchestron/${lib}`).join(', ')}): no runtime, ports, adapters or apps.`,
};
const FRAMEWORK_AND_CLIENTS_IN_DOMAIN = [
  { group: ['@nestjs/*'], message: 'Domain libs must not import NestJS.' },
  { group: KAFKA_CLIENTS, message: 'Domain libs must not import a Kafka client.' },
  { group: STORE_CLIENTS, message: 'Domain libs must not import an event-store or database client.' },
];
const NODE_IN_DOMAIN = [
  { group: ['node:*'], message: 'Domain libs must not import Node built-ins: time, ids and I/O come in on commands.' },
];
// Bare specifiers of built-ins ('fs', 'crypto', …) as well as 'node:' ones; the list is Node's own, so it stays complete.
const BARE_BUILTINS = builtinModules
  .filter((name) => !name.startsWith('_') && !name.includes('/'))
  .map((name) => ({ name, message: 'Domain libs must not import Node built-ins.' }));

/** The runtime depends on ports (@orchestron/bus, @orchestron/event-store, …), never on the adapters behind them. */
const ADAPTERS_IN_RUNTIME = [
  {
    group: ['@orchestron/store-*', '@orchestron/bus-kafka', '@orchestron/nest-transport'],
    message: 'The runtime imports ports, never adapters: the app that composes a tier passes the adapter in.',
  },
  { group: KAFKA_CLIENTS, message: 'The runtime imports ports, never a Kafka client.' },
  { group: STORE_CLIENTS, message: 'The runtime imports ports, never an event-store or database client.' },
  { group: ['@nestjs/*'], message: 'The runtime does not import NestJS: only the edge (apps/*) imports a framework.' },
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '**/dist/**',
      '.orchestron/**',
      'coverage/**',
      'test/fixtures/lint/**',
      '**/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver()],
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        structuredClone: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        fetch: 'readonly',
        Buffer: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        queueMicrotask: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': ['error', { patterns: [DEEP_IMPORT] }],
      // A relative path into another package (../../apps/server/src/…) skips its public entry and hides the dependency from package.json.
      'import-x/no-relative-packages': 'error',
    },
  },
  {
    files: ['libs/*/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [DEEP_IMPORT, NO_APPS] }] },
  },
  {
    files: ['libs/runtime/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [DEEP_IMPORT, NO_APPS, ...ADAPTERS_IN_RUNTIME] }] },
  },
  {
    // Integration specs run the engine on a real tier, so they may build one from an adapter; unit specs and the lib may not.
    files: ['libs/runtime/src/**/*.int.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [DEEP_IMPORT, NO_APPS] }] },
  },
  {
    files: DOMAIN_LIBS.map(srcOf),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: BARE_BUILTINS,
          patterns: [DEEP_IMPORT, NOT_A_DOMAIN_LIB, ...FRAMEWORK_AND_CLIENTS_IN_DOMAIN, ...NODE_IN_DOMAIN],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Domain libs must not read the process.' },
        { name: 'Buffer', message: 'Domain libs must not use Node buffers.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'Time comes in on metadata.now.',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Time comes in on metadata.now.',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'Randomness is derived from ids.',
        },
        { selector: "CallExpression[callee.name='randomUUID']", message: 'Ids come in on commands.' },
      ],
    },
  },
  {
    // Specs of the domain libs may read their fixtures from disk (node:fs) and their settings (node:process's env); the
    // layer rule still holds for them.
    files: DOMAIN_LIBS.map((lib) => `libs/${lib}/src/**/*.spec.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [DEEP_IMPORT, NOT_A_DOMAIN_LIB, ...FRAMEWORK_AND_CLIENTS_IN_DOMAIN] },
      ],
    },
  },
);
