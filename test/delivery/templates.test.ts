import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sampleTemplateContext, type TemplateContext } from '../../src/delivery/template-context';
import {
  REQUIRED_TEMPLATES,
  TemplateError,
  checkTemplates,
  createTemplateRenderer,
  defaultTemplatesDir,
  formatProblem,
  renderMessage,
} from '../../src/delivery/templates';

let dir: string;

async function write(rel: string, content: string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await writeFile(path.join(dir, rel), content);
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'templates-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function context(overrides: Partial<TemplateContext> = {}): TemplateContext {
  return { ...sampleTemplateContext('complaint', 'update'), ...overrides };
}

describe('checkTemplates', () => {
  test('the real templates/ folder is clean and has every required template', async () => {
    const problems = await checkTemplates(defaultTemplatesDir(), { required: REQUIRED_TEMPLATES });
    expect(problems.map(formatProblem)).toEqual([]);
    expect(REQUIRED_TEMPLATES).toHaveLength(18);
  });

  test('reports each problem kind with file and line', async () => {
    await write('onboarding/good.subject.liquid', 'Hi {{ customer.name }}');
    await write('onboarding/good.html.liquid', '<p>{{ customer.name | upcase }} {{ customer.name.size }}</p>');
    await write('onboarding/good.text.liquid', '{% assign n = customer.points | plus: 1 %}{{ n }} {% if offer %}{{ offer.code }}{% endif %}');
    await write('onboarding/good.sms.liquid', '{% for i in (1..2) %}{{ forloop.index }}{% endfor %} {{ brand.name }}');
    await write('onboarding/broken.sms.liquid', 'Hello {{ customer.name }}\n\n{% if offer %}\nno end');
    await write('nurture/filtered.sms.liquid', 'line one\n{{ customer.name | shout }}\n{{ customer.nickname }}');
    await write('winback/vars.sms.liquid', 'A\nB\n{{ brand.name }}\n{{ customer.phone.country }} {{ coupon }}');
    await write('complaint/partial.subject.liquid', 'Subject');
    await write('complaint/partial.text.liquid', 'Text');
    await write('misc/stray.sms.liquid', 'x');

    const lines = (await checkTemplates(dir, { required: ['winback/absent'] })).map(formatProblem);
    const f = (rel: string) => path.join(dir, rel);
    expect(lines).toEqual([
      `${f('complaint/partial.html.liquid')}:1: missing template: complaint/partial has email files but no html part`,
      `${f('misc')}:1: unknown stage folder; expected one of onboarding, nurture, complaint, winback`,
      `${f('nurture/filtered.sms.liquid')}:2: unknown filter: shout`,
      `${f('nurture/filtered.sms.liquid')}:3: unknown variable: customer.nickname is not in the template context`,
      `${f('onboarding/broken.sms.liquid')}:3: syntax error: tag {% if offer %} not closed`,
      `${f('winback/absent.html.liquid')}:1: missing template: required winback/absent has no html part`,
      `${f('winback/absent.sms.liquid')}:1: missing template: required winback/absent has no sms part`,
      `${f('winback/absent.subject.liquid')}:1: missing template: required winback/absent has no subject part`,
      `${f('winback/absent.text.liquid')}:1: missing template: required winback/absent has no text part`,
      `${f('winback/vars.sms.liquid')}:4: unknown variable: customer.phone.country is not in the template context`,
      `${f('winback/vars.sms.liquid')}:4: unknown variable: coupon is not in the template context`,
    ]);
  });

  test('a clean temp folder has no problems', async () => {
    await write('winback/ok.sms.liquid', '{{ customer.name }}: {% if offer %}{{ offer.discount }}{% endif %}');
    expect(await checkTemplates(dir)).toEqual([]);
  });
});

describe('renderMessage', () => {
  test('HTML output is escaped, text and subject are not', async () => {
    await write('complaint/echo.subject.liquid', 'Re: {{ ticket.subject }}\n');
    await write('complaint/echo.html.liquid', '<p>{{ customer.name }} / {{ ticket.subject }}</p>\n');
    await write('complaint/echo.text.liquid', '{{ customer.name }} / {{ ticket.subject }}\n');
    const renderer = createTemplateRenderer({ root: dir });
    const ctx = context({
      customer: { id: 'c1', name: '<script>alert("x")</script>', tier: 'gold', points: 1 },
      ticket: { id: 'T-1', subject: 'Fish & "Chips" <b>' },
    });
    const email = await renderer.renderMessage('complaint/echo', 'email', ctx);
    expect(email.html).toBe('<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; / Fish &amp; &#34;Chips&#34; &lt;b&gt;</p>\n');
    expect(email.text).toBe('<script>alert("x")</script> / Fish & "Chips" <b>\n');
    expect(email.subject).toBe('Re: Fish & "Chips" <b>');
  });

  test('a real template renders for both channels', async () => {
    const ctx = context();
    const email = await renderMessage('complaint/update', 'email', ctx);
    expect(email.subject).toBe('An update on your request T-4711');
    expect(email.text).toContain('Hi Ada Lovelace, we wanted to keep you posted on "Late delivery & damaged box".');
    expect(email.html).toContain('on "Late delivery &amp; damaged box".');
    expect(email.html).toContain(`href="${ctx.unsubscribeLink.replace(/&/g, '&amp;')}"`);
    expect(email.text).toContain(`Unsubscribe: ${ctx.unsubscribeLink}`);

    const sms = await renderMessage('winback/offer', 'sms', context());
    expect(sms).toEqual({
      channel: 'sms',
      body: 'Acme Coffee: 20% off with code COMEBACK20, until Jun 30. Reply STOP to opt out.',
      segments: 1,
      encoding: 'GSM-7',
    });
  });

  test('optional fields may be absent where the template tests for them', async () => {
    const { offer: _offer, ...withoutOffer } = context();
    const sms = await renderMessage('winback/offer', 'sms', withoutOffer);
    expect(sms.body).toBe('Acme Coffee: your gold perks are waiting. Reply STOP to opt out.');
    const email = await renderMessage('winback/offer', 'email', withoutOffer);
    expect(email.subject).toBe('Something special, just for you');
  });

  test('every required template renders for email and sms with sample data', async () => {
    for (const id of REQUIRED_TEMPLATES) {
      const [stage, step] = id.split('/') as ['onboarding', string];
      const ctx = sampleTemplateContext(stage, step);
      const email = await renderMessage(id, 'email', ctx);
      expect(email.subject.length).toBeGreaterThan(5);
      expect(email.html).toContain('Unsubscribe</a>');
      const sms = await renderMessage(id, 'sms', ctx);
      expect(sms.body).toMatch(/Reply STOP to opt out\.$/);
      expect(sms.segments).toBeLessThanOrEqual(2);
    }
  });

  test('an unknown variable is a render error with file and line (strictVariables)', async () => {
    await write('nurture/typo.sms.liquid', 'Hi\n{{ customer.nickname }}');
    const renderer = createTemplateRenderer({ root: dir });
    const err = await renderer.renderMessage('nurture/typo', 'sms', context()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateError);
    expect(err).toMatchObject({ kind: 'render-error', templateId: 'nurture/typo', channel: 'sms', location: { line: 2 } });
    expect((err as Error).message).toMatch(/typo\.sms\.liquid:2: undefined variable: customer\.nickname/);
  });

  test('using an optional field the context lacks, outside an if, is a render error', async () => {
    await write('winback/code.sms.liquid', 'Code {{ offer.code }}');
    const renderer = createTemplateRenderer({ root: dir });
    const { offer: _offer, ...withoutOffer } = context();
    await expect(renderer.renderMessage('winback/code', 'sms', withoutOffer)).rejects.toMatchObject({ kind: 'render-error' });
    await expect(renderer.renderMessage('winback/code', 'sms', context())).resolves.toMatchObject({ body: 'Code COMEBACK20' });
  });

  test('missing template, bad id and invalid context are typed errors', async () => {
    await write('onboarding/sms-only.sms.liquid', 'hi');
    const renderer = createTemplateRenderer({ root: dir });
    await expect(renderer.renderMessage('onboarding/sms-only', 'email', context())).rejects.toMatchObject({
      name: 'TemplateError',
      kind: 'missing-template',
    });
    await expect(renderer.renderMessage('onboarding/nope', 'sms', context())).rejects.toMatchObject({ kind: 'missing-template' });
    await expect(renderer.renderMessage('../etc/passwd', 'sms', context())).rejects.toMatchObject({ kind: 'invalid-template-id' });
    await expect(renderer.renderMessage('sales/promo', 'sms', context())).rejects.toMatchObject({ kind: 'invalid-template-id' });
    const bad = { ...context(), unsubscribeLink: 'not a url' };
    await expect(renderer.renderMessage('onboarding/sms-only', 'sms', bad)).rejects.toMatchObject({ kind: 'invalid-context' });
  });

  test('the render time limit stops a runaway template', async () => {
    await write('nurture/loop.sms.liquid', '{% for i in (1..100000) %}{% for j in (1..100000) %}x{% endfor %}{% endfor %}');
    const renderer = createTemplateRenderer({ root: dir, renderLimit: 50, memoryLimit: 1e12 });
    const started = Date.now();
    await expect(renderer.renderMessage('nurture/loop', 'sms', context())).rejects.toMatchObject({ kind: 'render-error' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
