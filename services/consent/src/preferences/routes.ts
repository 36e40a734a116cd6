// Preference, code and consent-view routes. Staff (receptionists included) read and
// record them (`consent:read` / `consent:write`).
import type { ApiRouter } from '@praxis/platform';
import { z } from 'zod';
import { callerOf } from '../common/caller';
import { patientParams, text } from '../common/http';
import { SNOMED_SYSTEM, isValidSctid } from './snomed';
import { type PreferenceDeps, changePreferences, recordCode, viewConsent } from './use-cases';

const prefs = z.object({ sms: z.boolean(), email: z.boolean() });
const codeView = z.object({
  id: z.string(),
  kind: z.enum(['consent', 'dissent']),
  system: z.string(),
  code: z.string(),
  display: z.string(),
  recordedBy: z.string(),
  recordedAt: z.string(),
});

export const codeBody = z
  .strictObject({
    kind: z.enum(['consent', 'dissent']),
    system: z
      .string()
      .max(200)
      .regex(/^(https?:\/\/[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+|urn:[A-Za-z0-9._:-]+)$/, 'an absolute URI (http(s):// or urn:)'),
    code: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and . _ : -'),
    display: text(500),
  })
  .superRefine((b, ctx) => {
    if (b.system === SNOMED_SYSTEM && !isValidSctid(b.code))
      ctx.addIssue({ code: 'custom', path: ['code'], message: 'not a SNOMED CT identifier (wrong length or check digit)' });
  });

export function preferenceRoutes(api: ApiRouter, deps: PreferenceDeps): void {
  const tags = ['consent'];
  api.route(
    {
      method: 'get',
      path: '/patients/:id/consent',
      summary: 'A patient’s preferences (with their history), consent and dissent codes, and privacy notices',
      tags,
      auth: { permission: 'consent:read' },
      params: patientParams,
      response: z.object({
        preferences: prefs,
        preferenceHistory: z.array(
          z.object({ version: z.number().int(), sms: z.boolean(), email: z.boolean(), changedBy: z.string(), changedAt: z.string() }),
        ),
        codes: z.array(codeView),
        notices: z.array(
          z.object({
            noticeVersion: z.string(),
            method: z.enum(['in_person', 'email']),
            status: z.enum(['acknowledged', 'sent', 'expired']),
            at: z.string(),
            expiresAt: z.string().optional(),
          }),
        ),
      }),
      errors: { 404: 'No such patient in this practice' },
    },
    ({ auth, params }) => viewConsent(deps, callerOf(auth), params.id),
  );
  api.route(
    {
      method: 'put',
      path: '/patients/:id/preferences',
      summary: 'Change channel preferences (a new version; the earlier ones stay in the history)',
      tags,
      auth: { permission: 'consent:write' },
      params: patientParams,
      body: z.strictObject({ sms: z.boolean().optional(), email: z.boolean().optional() }),
      response: prefs,
      errors: { 404: 'No such patient in this practice' },
    },
    ({ auth, params, body }) => changePreferences(deps, callerOf(auth), params.id, body),
  );
  api.route(
    {
      method: 'post',
      path: '/patients/:id/consent-codes',
      summary: 'Record a consent or dissent code (SNOMED CT ids are checked)',
      tags,
      auth: { permission: 'consent:write' },
      params: patientParams,
      body: codeBody,
      status: 201,
      response: codeView.extend({ patientId: z.string() }),
      errors: { 404: 'No such patient in this practice' },
    },
    ({ auth, params, body }) => recordCode(deps, callerOf(auth), params.id, body),
  );
}
