/** DI tokens of the HTTP edge: ports are bound by Symbol, never by class (there are no parameter types to infer from). */
export const RUN_SERVICE = Symbol('RUN_SERVICE');
export const METRICS = Symbol('METRICS');
/** Holds the OpenAPI document, which can only be generated once the application (and so this provider) exists. */
export const OPENAPI_DOCUMENT = Symbol('OPENAPI_DOCUMENT');
/** The API keys the server accepts (KeyRing): authentication and /v1/keys. */
export const KEY_RING = Symbol('KEY_RING');
/** The verifiable log's notary and reader (AuditService), or null when it is off. */
export const AUDIT = Symbol('AUDIT');
/** Holds how the MCP route calls this very API (Fastify's inject), set once the application exists. */
export const MCP_API = Symbol('MCP_API');
/** How many event streams a key may hold open, and how often they send a heartbeat (StreamLimits). */
export const STREAM_LIMITS = Symbol('STREAM_LIMITS');
