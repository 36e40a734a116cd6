// Records' internal routes as messaging uses them: a patient's contact details and a
// template rendered for them, called with a service token for the practice (the
// ServiceTokenSource contract, docs/platform.md). Records answers 404 for a patient the
// practice does not have (another practice's included) and for one already erased.
import { type ServiceTokenSource, problems } from '@praxis/platform';

export interface PatientContact {
  patientId: string;
  ref: string;
  email?: string;
  mobile?: string;
}

export interface RenderedTemplate {
  channel: 'sms' | 'email';
  subject?: string;
  body: string;
}

export interface RecordsClient {
  contact(tenantId: string, patientId: string): Promise<PatientContact | null>;
  render(
    tenantId: string,
    templateId: string,
    patientId: string,
    variables?: Record<string, string>,
  ): Promise<RenderedTemplate | 'no-template' | 'no-patient'>;
}

export class HttpRecordsClient implements RecordsClient {
  constructor(
    private readonly baseUrl: string,
    private readonly tokens: ServiceTokenSource,
    private readonly timeoutMs = 10_000,
  ) {}

  async contact(tenantId: string, patientId: string): Promise<PatientContact | null> {
    const res = await this.call(tenantId, 'GET', `/internal/patients/${encodeURIComponent(patientId)}/contact`);
    if (res.status === 404) return null;
    return (await this.json(res, 'reading contact details')) as PatientContact;
  }

  async render(
    tenantId: string,
    templateId: string,
    patientId: string,
    variables?: Record<string, string>,
  ): Promise<RenderedTemplate | 'no-template' | 'no-patient'> {
    const res = await this.call(tenantId, 'POST', `/internal/templates/${encodeURIComponent(templateId)}/render`, {
      patientId,
      ...(variables && Object.keys(variables).length ? { variables } : {}),
    });
    if (res.status === 404) {
      const body = (await res.json().catch(() => ({}))) as { detail?: string };
      return /template/i.test(body.detail ?? '') ? 'no-template' : 'no-patient';
    }
    if (res.status === 400) {
      const body = (await res.json().catch(() => ({}))) as { detail?: string; errors?: { path: string; message: string }[] };
      throw problems.badRequest(
        body.detail ?? 'The template could not be rendered.',
        body.errors?.map((e) => ({ path: e.path.replace(/^body\./, 'body.'), message: e.message })),
      );
    }
    return (await this.json(res, 'rendering a template')) as RenderedTemplate;
  }

  private async call(tenantId: string, method: string, path: string, body?: unknown): Promise<Response> {
    let token: string;
    try {
      token = await this.tokens.tokenFor(tenantId);
    } catch {
      throw problems.unavailable('Records cannot be reached right now.');
    }
    try {
      return await fetch(`${this.baseUrl.replace(/\/$/, '')}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw problems.unavailable('Records cannot be reached right now.');
    }
  }

  private async json(res: Response, what: string): Promise<unknown> {
    if (!res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      throw problems.unavailable(`Records refused ${what} (${res.status}).`);
    }
    return res.json();
  }
}
