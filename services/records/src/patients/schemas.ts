// The patient's wire shapes: strict (unknown fields are refused), dates real calendar
// days, phones E.164.
import { atLeastOneField, humanText } from '@praxis/platform';
import { z } from 'zod';

/** Names and address lines: no control, bidi-override or zero-width characters. */
const text = (max: number) => humanText({ max });

/** Documented as `format: date` (a real calendar day, YYYY-MM-DD), as it is enforced. */
export const birthDate = z.iso
  .date('a real calendar date as YYYY-MM-DD')
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

export const patientPatchBody = atLeastOneField(
  z.strictObject({
    givenName: text(100).optional(),
    familyName: text(100).optional(),
    birthDate: birthDate.optional(),
    email: z.email().max(254).nullable().optional(),
    mobile: e164.nullable().optional(),
    address: address.nullable().optional(),
    test: z.boolean().optional(),
  }),
);

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
