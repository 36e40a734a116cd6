import type { ApiRouter } from '@praxis/platform';
import { z } from 'zod';
import { type SuppliedVariables, createTemplate } from './use-cases';
/** `{ appointment: { date }, practice: { name } }` or `{ "appointment.date": … }`; patient values come from the record only. */
export declare const templateVariablesBody: z.ZodObject<{
    appointment: z.ZodOptional<z.ZodObject<{
        date: z.ZodOptional<z.ZodString>;
        time: z.ZodOptional<z.ZodString>;
        clinician: z.ZodOptional<z.ZodString>;
        location: z.ZodOptional<z.ZodString>;
    }, z.core.$strict>>;
    practice: z.ZodOptional<z.ZodObject<{
        name: z.ZodOptional<z.ZodString>;
        email: z.ZodOptional<z.ZodString>;
        address: z.ZodOptional<z.ZodString>;
        phone: z.ZodOptional<z.ZodString>;
        website: z.ZodOptional<z.ZodString>;
    }, z.core.$strict>>;
}, z.core.$strict>;
declare const variables: z.ZodObject<{
    appointment: z.ZodOptional<z.ZodObject<{
        date: z.ZodOptional<z.ZodString>;
        time: z.ZodOptional<z.ZodString>;
        clinician: z.ZodOptional<z.ZodString>;
        location: z.ZodOptional<z.ZodString>;
    }, z.core.$strict>>;
    practice: z.ZodOptional<z.ZodObject<{
        name: z.ZodOptional<z.ZodString>;
        email: z.ZodOptional<z.ZodString>;
        address: z.ZodOptional<z.ZodString>;
        phone: z.ZodOptional<z.ZodString>;
        website: z.ZodOptional<z.ZodString>;
    }, z.core.$strict>>;
}, z.core.$strict>;
export declare function flattenVariables(v: z.infer<typeof variables> | undefined): SuppliedVariables;
export declare function templateRoutes(api: ApiRouter, deps: Parameters<typeof createTemplate>[0]): void;
export {};
//# sourceMappingURL=routes.d.ts.map