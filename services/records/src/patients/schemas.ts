// The patient's wire shapes: strict (unknown fields are refused), dates real calendar
// days, phones E.164.
import { z } from 'zod';

const noControl = (s: string) => !/\p{Cc}/u.test(s);
const text = (max: number) => z.string().trim().min(1).max(max).refine(noControl, 'control characters are not allowed');

export const birthDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'not a real calendar date')
  .refine((s) => s >= '1880-01-01' && s <= new Date().toISOString().slice(0, 10), 'must not be in the future or before 1880');

export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'a phone number in E.164 form, e.g. +447700900123');

export const address = z.strictObject({
  line1: text(200),
  line2: text(200).optional(),
  city: text(100),
  postcode: text(16),
});

export const patientCreateBody = z.strictObject({
  givenName: text(100),
  familyName: text(100),
  birthDate,
  email: z.email().max(254).optional(),
  mobile: e164.optional(),
  address: address.optional(),
  test: z.boolean().optional(),
});

export const patientPatchBody = z.strictObject({
  givenName: text(100).optional(),
  familyName: text(100).optional(),
  birthDate: birthDate.optional(),
  email: z.email().max(254).nullable().optional(),
  mobile: e164.nullable().optional(),
  address: address.nullable().optional(),
  test: z.boolean().optional(),
});

export const patientResponse = z.object({
  id: z.string(),
  ref: z.string().describe('Pseudonymous reference, PX-XXXX-XXXC (Crockford base32 with a check character)'),
  givenName: z.string(),
  familyName: z.string(),
  birthDate: z.string(),
  email: z.string().optional(),
  mobile: z.string().optional(),
  address: address.optional(),
  test: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
