// Who is asking, reduced to what the use-cases need: tenant (from the verified token,
// never the request), the real actor for events, and what they may see and write.
import type { Actor } from '@praxis/contracts';
import type { AuthContext } from '@praxis/platform';

export interface Caller {
  tenantId: string;
  actor: Actor;
  /** Only test patients exist for this caller (support with scope `settings`). */
  testOnly: boolean;
  /** May create or change real (non-test) patients. */
  writesReal: boolean;
  /** The user id to record as an author (the support user's own id in support mode). */
  authorId: string;
}

export function callerOf(auth: AuthContext): Caller {
  return {
    tenantId: auth.tenantId,
    actor: auth.actor,
    testOnly: !auth.can('patient:read'),
    writesReal: auth.can('patient:write'),
    authorId: auth.actor.id,
  };
}
