import type { Bus, IdempotencyStore } from '@praxis/platform';
import { type SubjectDataDeps } from './use-cases';
export declare const consumerNames: (prefix?: string) => {
    erasures: string;
    purges: string;
};
export declare function startSubjectDataConsumers(bus: Pick<Bus, 'consume'>, idempotency: IdempotencyStore, deps: SubjectDataDeps, prefix?: string): Promise<void>;
//# sourceMappingURL=consumers.d.ts.map