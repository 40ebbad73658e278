export { apiPath, fetchCaller } from './api-caller.ts';
export type { ApiAnswer, ApiCaller, ApiRequest } from './api-caller.ts';
export { createMcpServer, toResult } from './server.ts';
export type { McpServerOptions } from './server.ts';
export { MAX_TOOL_WAIT_MS, TOOLS } from './tools.ts';
export type { ToolSpec } from './tools.ts';
