import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { TEMPLATE_STAGES, sampleTemplateContext, type TemplateStage } from './template-context';
import { TemplateError, createTemplateRenderer, type Channel } from './templates';

const USAGE = 'usage: npm run templates:preview -- <stage/name> [--channel email|sms] [--out file.html]';

/** Renders one template with sample data: email to stdout (or its HTML to --out), SMS with its segment count. */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { channel: { type: 'string', default: 'email' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const templateId = positionals[0];
  if (values.help || !templateId) {
    console.log(USAGE);
    return values.help ? 0 : 1;
  }
  const channel = values.channel as Channel;
  if (channel !== 'email' && channel !== 'sms') {
    console.error(`--channel must be email or sms\n${USAGE}`);
    return 1;
  }
  const [stage, step] = templateId.split('/');
  const knownStage = (TEMPLATE_STAGES as readonly string[]).includes(stage ?? '') ? (stage as TemplateStage) : 'onboarding';
  const context = sampleTemplateContext(knownStage, step ?? 'preview');
  const renderer = createTemplateRenderer({ cache: false });
  try {
    const rendered = await renderer.renderMessage(templateId, channel, context);
    if (rendered.channel === 'sms') {
      console.log(rendered.body);
      console.log(`\n-- ${rendered.body.length} chars, ${rendered.segments} segment(s), ${rendered.encoding}`);
    } else {
      console.log(`Subject: ${rendered.subject}\n\n${rendered.text}`);
      if (values.out) {
        await writeFile(values.out, rendered.html);
        console.log(`-- HTML written to ${values.out}`);
      } else {
        console.log(`-- HTML --\n${rendered.html}`);
      }
    }
    return 0;
  } catch (err) {
    if (err instanceof TemplateError) {
      console.error(`${err.kind}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(2);
  },
);
