import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm ci` (the root `prepare` script) builds the web console. */
export const CONSOLE_DIST = resolve(fileURLToPath(new URL('../../../console/dist', import.meta.url)));
export const CONSOLE_PATH = '/console';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * Serves the built console at /console with a fallback to its index.html (the console routes in the browser),
 * and sends `/` there. The files are public, as a login page is: every call they make carries the pasted key.
 */
export function serveConsole(fastify: FastifyInstance, dir: string | null = CONSOLE_DIST): void {
  fastify.get('/', (_request, reply) => reply.redirect(`${CONSOLE_PATH}/`, 302));
  const answer = (path: string, reply: FastifyReply): FastifyReply => {
    if (dir === null || !existsSync(resolve(dir, 'index.html'))) return notBuilt(reply);
    const file = assetFile(dir, path);
    const cached = file !== null && path.startsWith('assets/');
    const target = file ?? resolve(dir, 'index.html');
    return reply
      .header('content-type', TYPES[extname(target)] ?? 'application/octet-stream')
      .header('cache-control', cached ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send(readFileSync(target));
  };
  fastify.get(CONSOLE_PATH, (_request, reply) => reply.redirect(`${CONSOLE_PATH}/`, 302));
  fastify.get(`${CONSOLE_PATH}/*`, (request, reply) => answer((request.params as { '*'?: string })['*'] ?? '', reply));
}

/** The file under `dir` the path names, or null for none (then the SPA's index.html answers). */
function assetFile(dir: string, path: string): string | null {
  if (path === '' || path.includes('\0')) return null;
  const file = resolve(dir, path);
  if (!file.startsWith(dir + sep)) return null;
  return existsSync(file) && statSync(file).isFile() ? file : null;
}

function notBuilt(reply: FastifyReply): FastifyReply {
  return reply
    .code(404)
    .header('content-type', 'application/json; charset=utf-8')
    .send({
      error: {
        code: 'ROUTE.NOT_FOUND',
        message: 'the web console is not built: run `npm run console:build` (npm ci does it) and restart',
        retryable: false,
      },
      agent_contract: { retryable: false, next_actions: [] },
    });
}
