import type { ApiRouter } from '@praxis/platform';
import { type PatientDeps } from './use-cases';
export declare function patientRoutes(api: ApiRouter, deps: PatientDeps): void;
//# sourceMappingURL=routes.d.ts.map