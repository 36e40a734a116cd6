// SMS credit routes: staff read the balance (`sms-credit:read`), admins buy
// (`sms-credit:purchase`; a receptionist may send texts but not buy credits).
import type { ApiRouter } from '@praxis/platform';
import { z } from 'zod';
import { callerOf } from '../common/caller';
import type { Credits } from './use-cases';

export function creditRoutes(api: ApiRouter, deps: { credits: Credits }): void {
  const tags = ['sms-credits'];
  api.route(
    {
      method: 'get',
      path: '/sms-credits',
      summary: "The practice's SMS credit balance (one credit per SMS part)",
      tags,
      auth: { permission: 'sms-credit:read' },
      response: z.object({ balance: z.number() }),
    },
    async ({ auth }) => ({ balance: await deps.credits.balance(auth.tenantId) }),
  );
  api.route(
    {
      method: 'post',
      path: '/sms-credits/purchases',
      summary: 'Buy SMS credits',
      tags,
      auth: { permission: 'sms-credit:purchase' },
      body: z.strictObject({ quantity: z.number().int().min(1).max(1_000_000) }),
      status: 201,
      response: z.object({ balance: z.number() }),
    },
    async ({ auth, body }) => ({ balance: await deps.credits.purchase(callerOf(auth), body.quantity) }),
  );
}
