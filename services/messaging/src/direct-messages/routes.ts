// Direct-message routes: staff create (`message:send`); the patient's link is public
// (`GET /dm/:token`, `POST /dm/:token/unlock`), its token being the credential.
import { type ApiRouter, bearerToken } from '@praxis/platform';
import { z } from 'zod';
import { callerOf } from '../common/caller';
import { idParam } from '../common/http';
import { type DirectMessageDeps, createDirectMessage, unlockDirectMessage, viewDirectMessage } from './use-cases';

const tokenParam = z.strictObject({
  token: z
    .string()
    .min(20)
    .max(100)
    .regex(/^[A-Za-z0-9_-]+$/),
});

export function directMessageRoutes(api: ApiRouter, deps: DirectMessageDeps): void {
  api.route(
    {
      method: 'post',
      path: '/direct-messages',
      summary: 'A secure message: stored encrypted; the patient is emailed a link and texted a 6-digit access code',
      tags: ['direct-messages'],
      auth: { permission: 'message:send' },
      body: z.strictObject({ patientId: idParam, subject: z.string().trim().min(1).max(200), body: z.string().min(1).max(20_000) }),
      status: 201,
      response: z.object({ id: z.string(), expiresAt: z.string() }),
      errors: {
        402: 'Not enough SMS credit for the code',
        404: 'No such patient in this practice',
        422: 'The patient has no email address or no mobile number',
      },
    },
    ({ auth, body, req }) => createDirectMessage(deps, callerOf(auth), bearerToken(req) ?? '', body),
  );
  api.route(
    {
      method: 'get',
      path: '/dm/:token',
      summary: 'What the patient sees before the code: the practice and the subject (audited)',
      tags: ['direct-messages'],
      auth: 'public',
      params: tokenParam,
      response: z.object({ practice: z.string(), subject: z.string(), expiresAt: z.string() }),
      errors: { 404: 'No such message', 410: 'Expired', 423: 'Locked after 5 wrong codes' },
    },
    ({ params }) => viewDirectMessage(deps, params.token),
  );
  api.route(
    {
      method: 'post',
      path: '/dm/:token/unlock',
      summary: 'Open the message with the texted code (audited); 5 wrong codes lock it',
      tags: ['direct-messages'],
      auth: 'public',
      params: tokenParam,
      body: z.strictObject({ code: z.string().regex(/^\d{6}$/, 'six digits') }),
      response: z.object({ practice: z.string(), subject: z.string(), body: z.string() }),
      errors: { 401: 'Wrong code', 404: 'No such message', 410: 'Expired', 423: 'Locked after 5 wrong codes' },
    },
    ({ params, body }) => unlockDirectMessage(deps, params.token, body.code),
  );
}
