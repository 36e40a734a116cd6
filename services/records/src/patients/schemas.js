"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.patientResponse = exports.patientPatchBody = exports.patientCreateBody = exports.address = exports.e164 = exports.birthDate = void 0;
// The patient's wire shapes: strict (unknown fields are refused), dates real calendar
// days, phones E.164.
const zod_1 = require("zod");
const noControl = (s) => !/\p{Cc}/u.test(s);
const text = (max) => zod_1.z.string().trim().min(1).max(max).refine(noControl, 'control characters are not allowed');
exports.birthDate = zod_1.z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
    .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}, 'not a real calendar date')
    .refine((s) => s >= '1880-01-01' && s <= new Date().toISOString().slice(0, 10), 'must not be in the future or before 1880');
exports.e164 = zod_1.z.string().regex(/^\+[1-9]\d{6,14}$/, 'a phone number in E.164 form, e.g. +447700900123');
exports.address = zod_1.z.strictObject({
    line1: text(200),
    line2: text(200).optional(),
    city: text(100),
    postcode: text(16),
});
exports.patientCreateBody = zod_1.z.strictObject({
    givenName: text(100),
    familyName: text(100),
    birthDate: exports.birthDate,
    email: zod_1.z.email().max(254).optional(),
    mobile: exports.e164.optional(),
    address: exports.address.optional(),
    test: zod_1.z.boolean().optional(),
});
exports.patientPatchBody = zod_1.z.strictObject({
    givenName: text(100).optional(),
    familyName: text(100).optional(),
    birthDate: exports.birthDate.optional(),
    email: zod_1.z.email().max(254).nullable().optional(),
    mobile: exports.e164.nullable().optional(),
    address: exports.address.nullable().optional(),
    test: zod_1.z.boolean().optional(),
});
exports.patientResponse = zod_1.z.object({
    id: zod_1.z.string(),
    ref: zod_1.z.string().describe('Pseudonymous reference, PX-XXXX-XXXC (Crockford base32 with a check character)'),
    givenName: zod_1.z.string(),
    familyName: zod_1.z.string(),
    birthDate: zod_1.z.string(),
    email: zod_1.z.string().optional(),
    mobile: zod_1.z.string().optional(),
    address: exports.address.optional(),
    test: zod_1.z.boolean(),
    createdAt: zod_1.z.string(),
    updatedAt: zod_1.z.string(),
});
//# sourceMappingURL=schemas.js.map