// Privacy-notice routes: versions (admin writes, staff read), giving a notice to a patient
// (staff), and the public acknowledgement page behind an emailed link.
import type { ApiRouter } from '@praxis/platform';
import { z } from 'zod';
import { callerOf } from '../common/caller';
import { patientParams, text } from '../common/http';
import { type NoticeDeps, acknowledgeByLink, createNoticeVersion, giveNotice, listNoticeVersions, showNotice } from './use-cases';

export const noticeVersionCode = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and . _ : - (e.g. 2026-01)');
const versionView = z.object({ version: z.string(), text: z.string(), createdAt: z.string(), current: z.boolean() });
const tokenParams = z.strictObject({
  token: z
    .string()
    .min(20)
    .max(100)
    .regex(/^[A-Za-z0-9_-]+$/),
});

export function noticeRoutes(api: ApiRouter, deps: NoticeDeps): void {
  const tags = ['privacy-notices'];
  api.route(
    {
      method: 'post',
      path: '/privacy-notice-versions',
      summary: 'Publish a privacy-notice version (the newest is current)',
      tags,
      auth: { permission: 'dsr:manage' },
      body: z.strictObject({ version: noticeVersionCode, text: text(50_000) }),
      status: 201,
      response: versionView,
      errors: { 409: 'The version exists already' },
    },
    ({ auth, body }) => createNoticeVersion(deps, callerOf(auth), body),
  );
  api.route(
    {
      method: 'get',
      path: '/privacy-notice-versions',
      summary: 'The practice’s notice versions, newest (current) first',
      tags,
      auth: { permission: 'consent:read' },
      response: z.object({ items: z.array(versionView) }),
    },
    ({ auth }) => listNoticeVersions(deps, callerOf(auth)),
  );
  api.route(
    {
      method: 'post',
      path: '/patients/:id/privacy-notices',
      summary: 'Record an acknowledgement given in person, or email the notice with a single-use acknowledgement link (14 days)',
      tags,
      auth: { permission: 'consent:write' },
      params: patientParams,
      body: z.strictObject({ noticeVersion: noticeVersionCode, method: z.enum(['in_person', 'email']) }),
      status: 201,
      response: z.object({
        id: z.string(),
        patientId: z.string(),
        noticeVersion: z.string(),
        method: z.enum(['in_person', 'email']),
        status: z.enum(['acknowledged', 'sent']),
        acknowledgedAt: z.string().optional(),
        expiresAt: z.string().optional(),
      }),
      errors: { 404: 'No such patient in this practice' },
    },
    ({ auth, params, body }) => giveNotice(deps, callerOf(auth), params.id, body),
  );
  api.route(
    {
      method: 'get',
      path: '/privacy-notices/ack/:token',
      summary: 'The notice behind an emailed link (public)',
      tags,
      auth: 'public',
      params: tokenParams,
      response: z.object({ practice: z.string(), version: z.string(), text: z.string(), expiresAt: z.string() }),
      errors: { 404: 'Unknown or already used link', 410: 'The link has expired' },
    },
    ({ params }) => showNotice(deps, params.token),
  );
  api.route(
    {
      method: 'post',
      path: '/privacy-notices/ack/:token',
      summary: 'Acknowledge the notice behind an emailed link, once (public)',
      tags,
      auth: 'public',
      params: tokenParams,
      response: z.object({ acknowledged: z.literal(true), version: z.string(), acknowledgedAt: z.string() }),
      errors: { 404: 'Unknown or already used link', 410: 'The link has expired' },
    },
    ({ params }) => acknowledgeByLink(deps, params.token),
  );
}
