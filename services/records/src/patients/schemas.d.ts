import { z } from 'zod';
export declare const birthDate: z.ZodString;
export declare const e164: z.ZodString;
export declare const address: z.ZodObject<{
    line1: z.ZodString;
    line2: z.ZodOptional<z.ZodString>;
    city: z.ZodString;
    postcode: z.ZodString;
}, z.core.$strict>;
export declare const patientCreateBody: z.ZodObject<{
    givenName: z.ZodString;
    familyName: z.ZodString;
    birthDate: z.ZodString;
    email: z.ZodOptional<z.ZodEmail>;
    mobile: z.ZodOptional<z.ZodString>;
    address: z.ZodOptional<z.ZodObject<{
        line1: z.ZodString;
        line2: z.ZodOptional<z.ZodString>;
        city: z.ZodString;
        postcode: z.ZodString;
    }, z.core.$strict>>;
    test: z.ZodOptional<z.ZodBoolean>;
}, z.core.$strict>;
export declare const patientPatchBody: z.ZodObject<{
    givenName: z.ZodOptional<z.ZodString>;
    familyName: z.ZodOptional<z.ZodString>;
    birthDate: z.ZodOptional<z.ZodString>;
    email: z.ZodOptional<z.ZodNullable<z.ZodEmail>>;
    mobile: z.ZodOptional<z.ZodNullable<z.ZodString>>;
    address: z.ZodOptional<z.ZodNullable<z.ZodObject<{
        line1: z.ZodString;
        line2: z.ZodOptional<z.ZodString>;
        city: z.ZodString;
        postcode: z.ZodString;
    }, z.core.$strict>>>;
    test: z.ZodOptional<z.ZodBoolean>;
}, z.core.$strict>;
export declare const patientResponse: z.ZodObject<{
    id: z.ZodString;
    ref: z.ZodString;
    givenName: z.ZodString;
    familyName: z.ZodString;
    birthDate: z.ZodString;
    email: z.ZodOptional<z.ZodString>;
    mobile: z.ZodOptional<z.ZodString>;
    address: z.ZodOptional<z.ZodObject<{
        line1: z.ZodString;
        line2: z.ZodOptional<z.ZodString>;
        city: z.ZodString;
        postcode: z.ZodString;
    }, z.core.$strict>>;
    test: z.ZodBoolean;
    createdAt: z.ZodString;
    updatedAt: z.ZodString;
}, z.core.$strip>;
//# sourceMappingURL=schemas.d.ts.map