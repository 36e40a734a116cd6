// Who is asking, reduced to what the use-cases need: the tenant (from the verified token,
// never the request) and the real actor for events.
import type { Actor } from '@praxis/contracts';
import type { AuthContext } from '@praxis/platform';

export interface Caller {
  tenantId: string;
  actor: Actor;
}

export function callerOf(auth: AuthContext): Caller {
  return { tenantId: auth.tenantId, actor: auth.actor };
}

export const systemActor: Actor = { kind: 'service', id: 'messaging' };
