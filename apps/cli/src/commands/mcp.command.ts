import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer, fetchCaller } from '@orchestron/mcp';
import { resolveClientConfig } from '../config.ts';
import type { CliContext } from '../cli.context.ts';
import type { Command } from 'commander';

const HELP = `
Speaks the Model Context Protocol on stdin and stdout, for an MCP client that starts it as a subprocess
(Claude Desktop, an IDE, the SDK's StdioClientTransport). Every tool is a call of the server's HTTP API with
your key, so a tool is refused exactly as its route would be (the key's role and tenant).

Client configuration, for example:
  { "mcpServers": { "orchestron": { "command": "npx", "args": ["orchestron", "mcp"],
      "env": { "ORCHESTRON_URL": "http://127.0.0.1:3000", "ORCHESTRON_API_KEY": "<key>" } } } }

The server itself also serves MCP over streamable HTTP at <url>/mcp, with the key as a bearer token.
Logs go to stderr; stdout carries the protocol only. It ends when stdin closes. See docs/mcp.md.
`;

export function registerMcpCommand(program: Command, ctx: CliContext): void {
  program
    .command('mcp')
    .description('serve the MCP tools over stdio, calling the server at --url with $ORCHESTRON_API_KEY')
    .addHelpText('after', HELP)
    .action(async (_options: unknown, cmd: Command) => {
      const { url } = cmd.optsWithGlobals<{ url?: string }>();
      const config = resolveClientConfig(ctx.env, ctx.cwd, url);
      const server = createMcpServer({ api: fetchCaller(config.baseUrl, config.apiKey, ctx.fetch), version: '0.1.0' });
      const transport = new StdioServerTransport();
      const closed = new Promise<void>((resolve) => {
        transport.onclose = resolve;
      });
      process.stdin.once('end', () => void server.close());
      await server.connect(transport);
      ctx.io.err(
        `orchestron mcp: serving ${config.baseUrl} over stdio${config.apiKey === null ? ' (no API key found)' : ''}`,
      );
      await closed;
      ctx.finish({ kind: 'succeeded' });
    });
}
