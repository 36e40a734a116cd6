// Practice admins from auth's internal route (GET /internal/practice-admins, HTTP Basic with
// messaging's client secret): every active practice with its active admins' names and
// addresses, a page of practices at a time.
export interface PracticeAdmins {
  tenantId: string;
  practice: string;
  admins: { userId: string; name: string; email: string }[];
}

export interface PracticeAdminSource {
  page(after?: string): Promise<{ items: PracticeAdmins[]; next?: string }>;
}

export class AuthPracticeAdmins implements PracticeAdminSource {
  constructor(private readonly opts: { authUrl: string; clientSecret: string; timeoutMs?: number }) {}

  async page(after?: string): Promise<{ items: PracticeAdmins[]; next?: string }> {
    const basic = Buffer.from(`messaging:${this.opts.clientSecret}`, 'utf8').toString('base64');
    const q = new URLSearchParams({ limit: '50', ...(after ? { after } : {}) });
    const res = await fetch(`${this.opts.authUrl.replace(/\/$/, '')}/api/v1/internal/practice-admins?${q}`, {
      headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
    });
    if (!res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      throw new Error(`auth refused the practice-admin list (${res.status})`);
    }
    return (await res.json()) as { items: PracticeAdmins[]; next?: string };
  }
}
