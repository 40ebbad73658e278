// The entry point. It turns Node's on-disk compile cache on before the service's modules load, so that a restart
// (after a crash, say) skips most of their compile time, then starts the service (ADR 46).
import { enableCompileCache, flushCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

enableCompileCache(fileURLToPath(new URL('../../../node_modules/.cache/node-compile-cache', import.meta.url)));
await import('./orchestrator-main.ts');
// Written now, once the service is up, rather than at exit: a process killed with SIGKILL never exits.
flushCompileCache();
