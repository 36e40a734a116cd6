import { TemplateSyntaxError, analyseTemplate, renderTemplate } from './render';

describe('template rendering', () => {
  it('fills the pseudonymous ref without warnings', () => {
    const t = { channel: 'sms' as const, body: 'Your ref is {{patient.ref}}, see you {{ appointment.date }}.' };
    expect(analyseTemplate(t)).toEqual({ variables: ['patient.ref', 'appointment.date'], warnings: [] });
    expect(renderTemplate(t, { 'patient.ref': 'PX-7K3M-9Q2D', 'appointment.date': '2026-12-01' }).body).toBe(
      'Your ref is PX-7K3M-9Q2D, see you 2026-12-01.',
    );
  });

  it('warns about each identifying variable', () => {
    const { warnings } = analyseTemplate({
      channel: 'email',
      subject: 'Hello {{patient.givenName}}',
      body: '{{patient.familyName}} born {{patient.birthDate}} at {{patient.address}}',
    });
    expect(warnings).toHaveLength(4);
    expect(warnings.join(' ')).toMatch(/given name/);
    expect(warnings.join(' ')).toMatch(/date of birth/);
  });

  it('HTML-escapes values in email bodies, but not the template itself', () => {
    const out = renderTemplate(
      { channel: 'email', subject: 'Re {{practice.name}}', body: '<p>{{practice.name}}</p>' },
      { 'practice.name': '<script>alert("x")</script> & Co' },
    );
    expect(out.body).toBe('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</p>');
    expect(out.subject).toBe('Re <script>alert("x")</script> & Co');
  });

  it('keeps values on one line in SMS and subjects (no header injection)', () => {
    const out = renderTemplate(
      { channel: 'email', subject: 'Hi {{practice.name}}', body: 'x' },
      { 'practice.name': 'A\r\nBcc: evil@example.com' },
    );
    expect(out.subject).toBe('Hi A Bcc: evil@example.com');
    expect(renderTemplate({ channel: 'sms', body: '{{practice.name}}' }, { 'practice.name': 'a\nb' }).body).toBe('a b');
  });

  it('refuses unknown variables and malformed braces', () => {
    expect(() => analyseTemplate({ channel: 'sms', body: '{{patient.nhsNumber}}' })).toThrow(TemplateSyntaxError);
    expect(() => analyseTemplate({ channel: 'sms', body: 'Hi {{patient.ref}' })).toThrow(/malformed/);
    expect(() => analyseTemplate({ channel: 'sms', body: '{{constructor.prototype}}' })).toThrow(/unknown/);
  });
});
