import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Liquid, type Template } from 'liquidjs';
import { countSmsSegments, type SmsEncoding } from './sms-segments';
import {
  TEMPLATE_STAGES,
  TemplateContextSchema,
  isKnownContextPath,
  sampleTemplateContext,
  type TemplateContext,
  type TemplateStage,
} from './template-context';

export type Channel = 'email' | 'sms';
export const EMAIL_PARTS = ['subject', 'html', 'text'] as const;
export type EmailPart = (typeof EMAIL_PARTS)[number];
type Part = EmailPart | 'sms';

export interface RenderedEmail {
  channel: 'email';
  subject: string;
  html: string;
  text: string;
}
export interface RenderedSms {
  channel: 'sms';
  body: string;
  segments: number;
  encoding: SmsEncoding;
}
export type RenderedMessage = RenderedEmail | RenderedSms;

/** Every template the campaigns use; `templates:check` reports any of these that is missing a file. */
export const REQUIRED_TEMPLATES: readonly string[] = [
  'onboarding/welcome',
  'onboarding/welcome-short',
  'onboarding/tip-1',
  'onboarding/tip-2',
  'onboarding/tip-3',
  'nurture/touch',
  'nurture/tier-up',
  'nurture/anniversary',
  'complaint/acknowledge',
  'complaint/update',
  'complaint/escalated',
  'complaint/resolved',
  'complaint/csat-survey',
  'complaint/recovery',
  'winback/we-miss-you',
  'winback/offer',
  'winback/last-chance',
  'winback/churn-survey',
];

export type TemplateErrorKind = 'invalid-template-id' | 'missing-template' | 'invalid-context' | 'render-error';

/** Why a message could not be rendered; callers record a skipped send with `kind` and `message`. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  constructor(
    readonly kind: TemplateErrorKind,
    readonly templateId: string,
    readonly channel: Channel,
    message: string,
    readonly location?: { file: string; line?: number },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type TemplateProblemKind =
  | 'syntax-error'
  | 'unknown-filter'
  | 'unknown-variable'
  | 'missing-template'
  | 'bad-file-name'
  | 'render-error';

export interface TemplateProblem {
  kind: TemplateProblemKind;
  /** The file as reached from the directory given to `checkTemplates`. */
  file: string;
  line: number;
  message: string;
}

export function formatProblem(problem: TemplateProblem): string {
  return `${problem.file}:${problem.line}: ${problem.message}`;
}

export interface TemplateEngineOptions {
  /** Folder holding `<stage>/<name>.<part>.liquid`; defaults to the repository's `templates/`. */
  root?: string;
  /** Milliseconds a single render may take (liquidjs `renderLimit`). */
  renderLimit?: number;
  /** Characters a single parse may read (liquidjs `parseLimit`). */
  parseLimit?: number;
  /** Allocation budget of a single render (liquidjs `memoryLimit`). */
  memoryLimit?: number;
  /** Keep parsed templates in memory (default true; previews and checks turn it off). */
  cache?: boolean;
}

const DEFAULT_LIMITS = { renderLimit: 1_000, parseLimit: 200_000, memoryLimit: 10_000_000 };

/** `templates/` of the repository, both from `src/delivery` (tsx) and `dist/src/delivery` (build). */
export function defaultTemplatesDir(): string {
  const candidates = [path.resolve(__dirname, '../../templates'), path.resolve(__dirname, '../../../templates')];
  return candidates.find((dir) => existsSync(dir)) ?? (candidates[0] as string);
}

function createLiquid(root: string, html: boolean, options: TemplateEngineOptions): Liquid {
  return new Liquid({
    root: [root],
    strictVariables: true,
    strictFilters: true,
    // `{% if offer %}` and `| default:` may test an optional field without tripping strictVariables
    lenientIf: true,
    ownPropertyOnly: true,
    outputEscape: html ? 'escape' : undefined,
    timezoneOffset: 0,
    renderLimit: options.renderLimit ?? DEFAULT_LIMITS.renderLimit,
    parseLimit: options.parseLimit ?? DEFAULT_LIMITS.parseLimit,
    memoryLimit: options.memoryLimit ?? DEFAULT_LIMITS.memoryLimit,
  });
}

const TEMPLATE_ID = /^([a-z]+)\/([a-z0-9][a-z0-9-]*)$/;
const FILE_NAME = /^([a-z0-9][a-z0-9-]*)\.(subject|html|text|sms)\.liquid$/;

function fileName(name: string, part: Part): string {
  return `${name}.${part}.liquid`;
}

interface LiquidLikeError {
  message: string;
  token?: { getPosition(): [number, number] };
}

function isLiquidError(err: unknown): err is Error & LiquidLikeError {
  return err instanceof Error && typeof (err as LiquidLikeError).token?.getPosition === 'function';
}

/** The message without the `, file:..., line:N, col:M` suffix liquidjs appends. */
function bareMessage(err: Error): string {
  return err.message.replace(/(, file:.*?)?, line:\d+, col:\d+$/, '');
}

function errorLine(err: unknown): number {
  if (isLiquidError(err) && err.token) return err.token.getPosition()[0];
  return 1;
}

export interface TemplateRenderer {
  renderMessage(templateId: string, channel: 'email', context: TemplateContext): Promise<RenderedEmail>;
  renderMessage(templateId: string, channel: 'sms', context: TemplateContext): Promise<RenderedSms>;
  renderMessage(templateId: string, channel: Channel, context: TemplateContext): Promise<RenderedMessage>;
  readonly root: string;
}

export function createTemplateRenderer(options: TemplateEngineOptions = {}): TemplateRenderer {
  const root = path.resolve(options.root ?? defaultTemplatesDir());
  const htmlEngine = createLiquid(root, true, options);
  const plainEngine = createLiquid(root, false, options);
  const cache = new Map<string, Template[]>();
  const useCache = options.cache ?? true;

  async function load(templateId: string, channel: Channel, stage: string, name: string, part: Part): Promise<Template[]> {
    const file = path.join(root, stage, fileName(name, part));
    const engine = part === 'html' ? htmlEngine : plainEngine;
    const key = `${part}:${file}`;
    const cached = useCache ? cache.get(key) : undefined;
    if (cached) return cached;
    let source: string;
    try {
      source = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new TemplateError('missing-template', templateId, channel, `template ${templateId} has no ${part} file (${file})`, { file });
      }
      throw err;
    }
    try {
      const parsed = engine.parse(source, file);
      if (useCache) cache.set(key, parsed);
      return parsed;
    } catch (err) {
      const e = err as Error;
      throw new TemplateError('render-error', templateId, channel, `${file}:${errorLine(err)}: ${bareMessage(e)}`, { file, line: errorLine(err) }, { cause: err });
    }
  }

  async function renderPart(templateId: string, channel: Channel, stage: string, name: string, part: Part, context: TemplateContext): Promise<string> {
    const parsed = await load(templateId, channel, stage, name, part);
    const engine = part === 'html' ? htmlEngine : plainEngine;
    const file = path.join(root, stage, fileName(name, part));
    try {
      return String(await engine.render(parsed, context));
    } catch (err) {
      const e = err as Error;
      throw new TemplateError('render-error', templateId, channel, `${file}:${errorLine(err)}: ${bareMessage(e)}`, { file, line: errorLine(err) }, { cause: err });
    }
  }

  async function renderMessage(templateId: string, channel: Channel, context: TemplateContext): Promise<RenderedMessage> {
    const match = TEMPLATE_ID.exec(templateId);
    if (!match || !(TEMPLATE_STAGES as readonly string[]).includes(match[1] as string)) {
      throw new TemplateError('invalid-template-id', templateId, channel, `template id must be <stage>/<name> with stage one of ${TEMPLATE_STAGES.join(', ')}: got ${JSON.stringify(templateId)}`);
    }
    const [, stage, name] = match as unknown as [string, string, string];
    const parsedContext = TemplateContextSchema.safeParse(context);
    if (!parsedContext.success) {
      const issues = parsedContext.error.issues.map((i) => `${i.path.join('.') || '(context)'}: ${i.message}`).join('; ');
      throw new TemplateError('invalid-context', templateId, channel, `invalid template context: ${issues}`);
    }
    const ctx = parsedContext.data;
    if (channel === 'sms') {
      const body = normalizeSms(await renderPart(templateId, channel, stage, name, 'sms', ctx));
      const info = countSmsSegments(body);
      return { channel: 'sms', body, segments: info.segments, encoding: info.encoding };
    }
    const [subject, html, text] = await Promise.all(EMAIL_PARTS.map((part) => renderPart(templateId, channel, stage, name, part, ctx)));
    return {
      channel: 'email',
      subject: (subject as string).replace(/\s+/g, ' ').trim(),
      html: (html as string).trim() + '\n',
      text: normalizeText(text as string),
    };
  }

  return { renderMessage: renderMessage as TemplateRenderer['renderMessage'], root };
}

function normalizeText(text: string): string {
  return (
    text
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim() + '\n'
  );
}

function normalizeSms(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

let defaultRenderer: TemplateRenderer | undefined;

/**
 * Renders `<stage>/<name>` from the repository's `templates/` for one channel. Throws `TemplateError`
 * (missing template, invalid context, render error) so the caller can record a skipped send with a reason.
 */
export function renderMessage(templateId: string, channel: 'email', context: TemplateContext): Promise<RenderedEmail>;
export function renderMessage(templateId: string, channel: 'sms', context: TemplateContext): Promise<RenderedSms>;
export function renderMessage(templateId: string, channel: Channel, context: TemplateContext): Promise<RenderedMessage>;
export function renderMessage(templateId: string, channel: Channel, context: TemplateContext): Promise<RenderedMessage> {
  defaultRenderer ??= createTemplateRenderer();
  return defaultRenderer.renderMessage(templateId, channel, context);
}

export interface CheckOptions {
  /** Template ids that must exist with both email and sms files; defaults to none. */
  required?: readonly string[];
  /** Render each template with sample data too, reporting render-time errors (default true). */
  trialRender?: boolean;
}

/**
 * Parses every template under `dir` and returns one problem per syntax error, unknown filter, variable the
 * context schema does not describe, incomplete email set or missing required template. Empty when clean.
 */
export async function checkTemplates(dir: string, options: CheckOptions = {}): Promise<TemplateProblem[]> {
  const problems: TemplateProblem[] = [];
  const engines = {
    html: createLiquid(dir, true, {}),
    plain: createLiquid(dir, false, {}),
    lenient: new Liquid({ root: [dir], strictFilters: false }),
  };
  const found = new Map<string, Set<Part>>();
  const entries = await readdir(dir, { withFileTypes: true });

  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const entryPath = path.join(dir, entry.name);
    if (!entry.isDirectory()) {
      if (entry.name.endsWith('.liquid')) {
        problems.push({ kind: 'bad-file-name', file: entryPath, line: 1, message: `templates belong in a stage folder (${TEMPLATE_STAGES.join(', ')})` });
      }
      continue;
    }
    if (!(TEMPLATE_STAGES as readonly string[]).includes(entry.name)) {
      problems.push({ kind: 'bad-file-name', file: entryPath, line: 1, message: `unknown stage folder; expected one of ${TEMPLATE_STAGES.join(', ')}` });
      continue;
    }
    const stage = entry.name as TemplateStage;
    const files = (await readdir(entryPath, { withFileTypes: true })).filter((f) => f.isFile()).map((f) => f.name).sort();
    for (const name of files) {
      const file = path.join(entryPath, name);
      const match = FILE_NAME.exec(name);
      if (!match) {
        if (name.endsWith('.liquid')) {
          problems.push({ kind: 'bad-file-name', file, line: 1, message: 'expected <name>.subject|html|text|sms.liquid' });
        }
        continue;
      }
      const [, base, part] = match as unknown as [string, string, Part];
      const id = `${stage}/${base}`;
      if (!found.has(id)) found.set(id, new Set());
      found.get(id)?.add(part);
      problems.push(...(await checkFile(file, part, stage, base, engines, options.trialRender ?? true)));
    }
  }

  for (const [id, parts] of found) {
    const hasEmail = EMAIL_PARTS.some((p) => parts.has(p));
    if (!hasEmail) continue;
    for (const part of EMAIL_PARTS) {
      if (!parts.has(part)) {
        const [stage, name] = id.split('/') as [string, string];
        problems.push({ kind: 'missing-template', file: path.join(dir, stage, fileName(name, part)), line: 1, message: `missing template: ${id} has email files but no ${part} part` });
      }
    }
  }
  for (const id of options.required ?? []) {
    const [stage, name] = id.split('/') as [string, string];
    const parts = found.get(id) ?? new Set<Part>();
    for (const part of [...EMAIL_PARTS, 'sms'] as Part[]) {
      if (parts.has(part)) continue;
      // an incomplete email set was reported above already
      if (part !== 'sms' && EMAIL_PARTS.some((p) => parts.has(p))) continue;
      problems.push({ kind: 'missing-template', file: path.join(dir, stage, fileName(name, part)), line: 1, message: `missing template: required ${id} has no ${part} part` });
    }
  }
  return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

async function checkFile(
  file: string,
  part: Part,
  stage: TemplateStage,
  name: string,
  engines: { html: Liquid; plain: Liquid; lenient: Liquid },
  trialRender: boolean,
): Promise<TemplateProblem[]> {
  const engine = part === 'html' ? engines.html : engines.plain;
  const source = await readFile(file, 'utf8');
  const problems: TemplateProblem[] = [];
  let parsed: Template[];
  try {
    parsed = engine.parse(source, file);
  } catch (err) {
    const message = bareMessage(err as Error);
    if (!/undefined filter/i.test(message)) {
      return [{ kind: 'syntax-error', file, line: errorLine(err), message: `syntax error: ${message}` }];
    }
    problems.push({ kind: 'unknown-filter', file, line: errorLine(err), message: `unknown filter: ${message.replace(/^undefined filter:\s*/i, '')}` });
    // the rest of the file is still worth checking: parse it again without the filter check
    parsed = engines.lenient.parse(source, file);
  }
  const analysis = await engine.analyze(parsed, { partials: false });
  for (const variables of Object.values(analysis.globals)) {
    for (const variable of variables) {
      if (!isKnownContextPath(variable.toArray())) {
        problems.push({ kind: 'unknown-variable', file, line: variable.location.row, message: `unknown variable: ${variable.toString()} is not in the template context` });
      }
    }
  }
  if (problems.length === 0 && trialRender) {
    try {
      await engine.render(parsed, sampleTemplateContext(stage, name));
    } catch (err) {
      problems.push({ kind: 'render-error', file, line: errorLine(err), message: `render error with sample data: ${bareMessage(err as Error)}` });
    }
  }
  return problems;
}
