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
export declare function callerOf(auth: AuthContext): Caller;
//# sourceMappingURL=caller.d.ts.map