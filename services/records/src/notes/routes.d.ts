import type { ApiRouter } from '@praxis/platform';
import { type NoteDeps } from './use-cases';
export declare function noteRoutes(api: ApiRouter, deps: NoteDeps): void;
//# sourceMappingURL=routes.d.ts.map