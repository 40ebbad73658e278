import { createParamDecorator, SetMetadata } from '@nestjs/common';
import type { CanActivate, CustomDecorator, ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { actorOf } from './auth.ts';
import type { Authenticator, Principal, Role } from './auth.ts';
import { RequestError } from './errors.ts';

const ACCESS = 'orchestron:access';
type Access = readonly Role[] | 'public';
type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/* Who may call what: the controllers declare these, and the discovery document repeats them. */
export const STARTERS: readonly Role[] = ['producer', 'operator', 'admin'];
export const READERS: readonly Role[] = ['producer', 'operator', 'auditor', 'admin'];
export const HISTORY_READERS: readonly Role[] = ['operator', 'auditor', 'admin'];
export const OPERATORS: readonly Role[] = ['operator', 'admin'];
/** The `definitions:write` right: registering a definition, also inline in a start. */
export const DEFINITION_WRITERS: readonly Role[] = ['operator', 'admin'];
export const ADMINS: readonly Role[] = ['admin'];
export const ANY_ROLE: readonly Role[] = ['producer', 'operator', 'auditor', 'admin', 'worker'];

/** The roles a route admits. Every route declares them, or `Public()`: a route with neither is refused. */
export const Roles = (...roles: readonly Role[]): CustomDecorator<string> => SetMetadata(ACCESS, roles);
/** Health and discovery: no key needed. */
export const Public = (): CustomDecorator<string> => SetMetadata(ACCESS, 'public');

/** Who made the call, as `role:subject`, for the events the call records. */
export const Actor = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  return principal ? actorOf(principal) : 'anonymous';
});

/** The authenticated key: its id, subject, tenant and role. Only on routes that declare Roles(...). */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('Caller() used on a public route');
  return principal;
});

export class AuthGuard implements CanActivate {
  readonly #keys: Authenticator;
  readonly #reflector: Reflector;

  constructor(keys: Authenticator, reflector: Reflector) {
    this.#keys = keys;
    this.#reflector = reflector;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.#reflector.get<Access | undefined>(ACCESS, context.getHandler());
    // Secure by default: forgetting to declare roles must not open a route.
    if (access === undefined)
      throw new Error(
        `${context.getClass().name}.${context.getHandler().name} declares neither Roles(...) nor Public()`,
      );
    if (access === 'public') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const principal = token === undefined ? null : await this.#keys.authenticate(token);
    if (!principal)
      throw new RequestError(
        'AUTH.UNAUTHENTICATED',
        'send "Authorization: Bearer <api key>" with a live key; the embedded server writes an admin key to $ORCHESTRON_DATA/admin.key',
      );
    if (!access.includes(principal.role))
      throw new RequestError(
        'AUTH.FORBIDDEN',
        `role ${principal.role} may not call this; it needs one of ${access.join(', ')}`,
      );
    request.principal = principal;
    return true;
  }
}
