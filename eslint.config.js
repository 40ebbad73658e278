// Lint is where the architecture is enforced, not review (STYLE.md, principle 5).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Domain libs stay pure: no framework, broker, event-store client or Node built-in. The error family is as pure, so every lib may import it. */
const DOMAIN_LIBS = ['libs/errors/src/**/*.ts', 'libs/workflow-core/src/**/*.ts', 'libs/definitions/src/**/*.ts', 'libs/policy/src/**/*.ts'];
const FORBIDDEN_IN_DOMAIN = [
  { group: ['@nestjs/*'], message: 'Domain libs must not import NestJS.' },
  { group: ['kafkajs', '@confluentinc/*', '@platformatic/kafka'], message: 'Domain libs must not import a Kafka client.' },
  { group: ['@kurrent/*', '@eventstore/*', 'pg', 'postgres', 'better-sqlite3'], message: 'Domain libs must not import an event-store or database client.' },
  { group: ['node:*'], message: 'Domain libs must not import Node built-ins: time, ids and I/O come in on commands.' },
  { group: ['@orchestron/*/src/*', '@orchestron/*/lib/*'], message: 'Import a lib through its public entry, not its internals.' },
];
const NODE_BUILTINS = ['fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'events', 'stream', 'util', 'url', 'timers', 'worker_threads', 'process'];

export default tseslint.config(
  { ignores: ['node_modules/**', '**/dist/**', '.orchestron/**', 'coverage/**', 'test/fixtures/lint/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', URL: 'readonly', structuredClone: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly', Buffer: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', queueMicrotask: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': ['error', { patterns: [{ group: ['@orchestron/*/src/*'], message: 'Import a lib through its public entry.' }] }],
    },
  },
  {
    files: DOMAIN_LIBS,
    rules: {
      'no-restricted-imports': ['error', { paths: NODE_BUILTINS.map((name) => ({ name, message: 'Domain libs must not import Node built-ins.' })), patterns: FORBIDDEN_IN_DOMAIN }],
      'no-restricted-globals': ['error', { name: 'process', message: 'Domain libs must not read the process.' }, { name: 'Buffer', message: 'Domain libs must not use Node buffers.' }],
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Time comes in on metadata.now.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Time comes in on metadata.now.' },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'Randomness is derived from ids.' },
        { selector: "CallExpression[callee.name='randomUUID']", message: 'Ids come in on commands.' },
      ],
    },
  },
);
