import type { ApiRouter } from '@praxis/platform';
import { type SubjectDataDeps } from './use-cases';
export declare function subjectDataRoutes(api: ApiRouter, deps: SubjectDataDeps): void;
//# sourceMappingURL=routes.d.ts.map