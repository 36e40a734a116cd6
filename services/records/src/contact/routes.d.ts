import type { ApiRouter } from '@praxis/platform';
import { type ContactDeps } from './use-cases';
export declare function contactRoutes(api: ApiRouter, deps: ContactDeps): void;
//# sourceMappingURL=routes.d.ts.map