import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ApiAnswer, ApiCaller } from './api-caller.ts';
import { checkArguments } from './arguments.ts';
import { OPERATOR_PROMPT, operatorPromptText } from './prompts.ts';
import { listResources, readResource, RESOURCE_TEMPLATES } from './resources.ts';
import { TOOLS } from './tools.ts';

export interface McpServerOptions {
  /** The API, called with the MCP client's own key. */
  readonly api: ApiCaller;
  readonly version: string;
}

const byName = new Map(TOOLS.map((tool) => [tool.name, tool]));

/**
 * Orchestron as an MCP server: tools, resources and a prompt, each a call of the HTTP API (api-caller.ts). One
 * server per connection (the HTTP transport is stateless: one per request).
 */
export function createMcpServer(options: McpServerOptions): Server {
  const server = new Server(
    { name: 'orchestron', title: 'Orchestron', version: options.version },
    {
      capabilities: { tools: {}, resources: {}, prompts: {} },
      instructions:
        'Workflow runs: start, watch, approve and repair them. Every answer carries agent_contract.next_actions; the prompt operate_orchestron explains the job.',
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: TOOLS.map(({ name, title, description, inputSchema, outputSchema, route }) => ({
      name,
      title,
      description: `${description} (${route})`,
      inputSchema: inputSchema as { type: 'object' },
      outputSchema: outputSchema as { type: 'object' },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, (request) =>
    callTool(options.api, request.params.name, request.params.arguments),
  );
  server.setRequestHandler(ListResourcesRequestSchema, () => listResources(options.api));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: RESOURCE_TEMPLATES }));
  server.setRequestHandler(ReadResourceRequestSchema, (request) => readResource(options.api, request.params.uri));
  server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: [OPERATOR_PROMPT] }));
  server.setRequestHandler(GetPromptRequestSchema, (request) => ({
    description: OPERATOR_PROMPT.description,
    messages: [
      { role: 'user', content: { type: 'text', text: operatorPromptText(request.params.arguments?.['runId']) } },
    ],
  }));
  return server;
}

async function callTool(api: ApiCaller, name: string, given: unknown): Promise<CallToolResult> {
  const tool = byName.get(name);
  if (tool === undefined)
    return refused('TOOL.UNKNOWN', `no tool "${name}": list_tools names them all`, { field: 'name' });
  const checked = checkArguments(tool, given);
  if (!checked.ok) return refused('REQUEST.INVALID', checked.message, { field: checked.field });
  return toResult(await api(tool.request(checked.args)));
}

/** The API's answer as the tool's result: its body is the structured content, and a non-2xx is an error. */
export function toResult(answer: ApiAnswer): CallToolResult {
  const body = (answer.body ?? {}) as Record<string, unknown>;
  const failed = answer.status < 200 || answer.status >= 300;
  return {
    structuredContent: body,
    content: [{ type: 'text', text: failed ? `HTTP ${answer.status}: ${JSON.stringify(body)}` : JSON.stringify(body) }],
    ...(failed ? { isError: true } : {}),
  };
}

function refused(code: string, message: string, details: Record<string, unknown>): CallToolResult {
  return toResult({
    status: 400,
    body: {
      error: { code, message, retryable: false, details },
      agent_contract: {
        retryable: false,
        next_actions: [
          {
            action: 'discover',
            method: 'GET',
            endpoint: '/.well-known/agent.json',
            description: 'what this API offers',
          },
        ],
      },
    },
  });
}
