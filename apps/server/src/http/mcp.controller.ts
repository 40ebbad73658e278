import { Controller, Delete, Get, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpServer } from '@orchestron/mcp';
import type { ApiCaller } from '@orchestron/mcp';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorContract } from './agent-contract.ts';
import { ANY_ROLE, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { MCP_API } from './tokens.ts';

/** Filled in by createHttpApp once Fastify exists: the MCP tools call the API through it, in process. */
export interface McpApiHolder {
  fastify: FastifyInstance | null;
}

export const MCP_VERSION = '0.1.0';

/**
 * The MCP server over streamable HTTP at /mcp, stateless: each POST is one JSON-RPC exchange with a server of its
 * own. Every tool call is an in-process call of this API (Fastify's inject) carrying the caller's own
 * Authorization header, so roles, tenants, validation and error codes are exactly the HTTP API's.
 */
export class McpController {
  readonly #holder: McpApiHolder;

  constructor(holder: McpApiHolder) {
    this.#holder = holder;
  }

  async post(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const fastify = this.#holder.fastify;
    if (fastify === null) throw new Error('the MCP route was called before createHttpApp set its API');
    const server = createMcpServer({
      api: injectCaller(fastify, request.headers.authorization ?? ''),
      version: MCP_VERSION,
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.once('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request.raw, reply.raw, request.body);
  }

  /** GET would open a server-sent stream: this server has none. */
  get(reply: FastifyReply): void {
    this.#notAllowed(reply);
  }

  /** DELETE would end a session: this server keeps none. */
  delete(reply: FastifyReply): void {
    this.#notAllowed(reply);
  }

  /** No server-sent stream and no sessions: this server answers each POST in its response. */
  #notAllowed(reply: FastifyReply): void {
    reply.hijack();
    reply.raw.writeHead(405, { allow: 'POST', 'content-type': 'application/json; charset=utf-8' });
    reply.raw.end(
      JSON.stringify({
        error: {
          code: 'REQUEST.INVALID',
          message:
            'this MCP endpoint is stateless: POST each JSON-RPC message; it opens no stream and keeps no session',
          retryable: false,
        },
        agent_contract: errorContract(false),
      }),
    );
  }
}

/** The API called in process, with the MCP caller's Authorization header. */
export function injectCaller(fastify: FastifyInstance, authorization: string): ApiCaller {
  return async ({ method, path, body }) => {
    const response = await fastify.inject({
      method,
      url: path,
      headers: {
        authorization,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: response.statusCode, body: response.json() };
  };
}

injectByToken(McpController, [MCP_API]);
decorateClass(McpController, [Controller('mcp'), ApiTags('mcp'), ApiBearerAuth()]);
decorateMethod(
  McpController,
  'post',
  [
    Post(),
    Roles(...ANY_ROLE),
    ApiOperation({
      summary: 'the MCP server (streamable HTTP, stateless)',
      description:
        'Model Context Protocol over HTTP: tools, resources and a prompt over this API, with the caller’s key; each tool is refused as its HTTP route would be. See docs/mcp.md.',
    }),
  ],
  [{ decorator: Req() }, { decorator: Res() }],
);
for (const [method, verb] of [
  ['get', Get()],
  ['delete', Delete()],
] as const)
  decorateMethod(McpController, method, [verb, Roles(...ANY_ROLE), ApiExcludeEndpoint()], [{ decorator: Res() }]);
