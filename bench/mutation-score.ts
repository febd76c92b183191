/**
 * `npx tsx bench/mutation-score.ts [report.json | events-dir] [--survivors]`: reads the JSON report of
 * `npm run test:mutation` (default reports/mutation/mutation.json, in the mutation-testing-report-schema format) and
 * prints the mutation score per top-level folder under src/, then the whole. With --survivors it also lists every
 * surviving mutant as `file:line:column mutator: replacement`. Last line: one JSON object.
 *
 * Given a folder instead, it reads what Stryker's `event-recorder` reporter wrote there (reports/mutation/events with
 * `--reporters clear-text,progress,html,json,event-recorder`): the result of each mutant as soon as it was tested,
 * so a run stopped before its end still gives a score over the mutants it tested (the rest count as pending).
 *
 * Stryker's definitions (mutation-testing-metrics): detected = killed + timeout, undetected = survived + no coverage,
 * valid = detected + undetected (compile errors, runtime errors, ignored and pending mutants do not count);
 * mutation score = detected / valid, covered score = detected / (detected + survived).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

type MutantStatus = 'Killed' | 'Survived' | 'NoCoverage' | 'CompileError' | 'RuntimeError' | 'Timeout' | 'Ignored' | 'Pending';

interface ReportMutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: MutantStatus;
  location: { start: { line: number; column: number } };
}

interface MutationReport {
  schemaVersion: string;
  files: Record<string, { mutants: ReportMutant[] }>;
}

/** A mutant as the event-recorder reporter writes it: like the report's, with the file's absolute name. */
type EventMutant = ReportMutant & { fileName: string };

/** Builds a report from an event-recorder folder: the planned mutants, each with its result if it has one yet. */
export async function reportFromEvents(dir: string): Promise<MutationReport> {
  const names = (await readdir(dir)).sort();
  const read = async <T>(name: string) => JSON.parse(await readFile(path.join(dir, name), 'utf8')) as T;
  const mutants = new Map<string, EventMutant>();
  const plan = names.find((name) => name.endsWith('-onMutationTestingPlanReady.json'));
  if (!plan) throw new Error(`${dir} holds no onMutationTestingPlanReady event: is it an event-recorder folder?`);
  // The plan holds Stryker's internal mutants (0-based lines and columns); tested ones are in the report's format.
  for (const { mutant } of (await read<{ mutantPlans: { mutant: EventMutant }[] }>(plan)).mutantPlans) {
    const { line, column } = mutant.location.start;
    mutants.set(mutant.id, { ...mutant, status: mutant.status ?? 'Pending', location: { start: { line: line + 1, column: column + 1 } } });
  }
  for (const name of names.filter((n) => n.endsWith('-onMutantTested.json'))) {
    const mutant = await read<EventMutant>(name);
    mutants.set(mutant.id, mutant);
  }
  const files: MutationReport['files'] = {};
  for (const mutant of mutants.values()) {
    const file = path.relative(process.cwd(), mutant.fileName).split(path.sep).join('/');
    (files[file] ??= { mutants: [] }).mutants.push(mutant);
  }
  return { schemaVersion: `events from ${names.length} files`, files };
}

interface FolderScore {
  files: number;
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  compileErrors: number;
  runtimeErrors: number;
  ignored: number;
  pending: number;
  detected: number;
  valid: number;
  /** Percent, null when no mutant is valid. */
  mutationScore: number | null;
  coveredScore: number | null;
}

const STATUS_FIELD: Record<MutantStatus, keyof FolderScore> = {
  Killed: 'killed',
  Timeout: 'timeout',
  Survived: 'survived',
  NoCoverage: 'noCoverage',
  CompileError: 'compileErrors',
  RuntimeError: 'runtimeErrors',
  Ignored: 'ignored',
  Pending: 'pending',
};

/** `src/shared/duration.ts` → `src/shared`; files directly in src/ (or elsewhere) count under their own folder. */
export function folderOf(file: string): string {
  const parts = file.replace(/\\/g, '/').split('/');
  if (parts[0] === 'src' && parts.length > 2) return `src/${parts[1]}`;
  return parts.length > 1 ? parts.slice(0, -1).join('/') : '.';
}

function percent(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 10_000) / 100;
}

export function score(files: [string, { mutants: ReportMutant[] }][]): FolderScore {
  const result: FolderScore = {
    files: files.length,
    mutants: 0,
    killed: 0,
    timeout: 0,
    survived: 0,
    noCoverage: 0,
    compileErrors: 0,
    runtimeErrors: 0,
    ignored: 0,
    pending: 0,
    detected: 0,
    valid: 0,
    mutationScore: null,
    coveredScore: null,
  };
  for (const [, file] of files) {
    for (const mutant of file.mutants) {
      result.mutants += 1;
      (result[STATUS_FIELD[mutant.status]] as number) += 1;
    }
  }
  result.detected = result.killed + result.timeout;
  result.valid = result.detected + result.survived + result.noCoverage;
  result.mutationScore = percent(result.detected, result.valid);
  result.coveredScore = percent(result.detected, result.detected + result.survived);
  return result;
}

function formatScore(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(2)}%`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const listSurvivors = args.includes('--survivors');
  const reportPath = args.find((arg) => !arg.startsWith('--')) ?? 'reports/mutation/mutation.json';
  const report = (await stat(reportPath)).isDirectory()
    ? await reportFromEvents(reportPath)
    : (JSON.parse(await readFile(reportPath, 'utf8')) as MutationReport);

  const byFolder = new Map<string, [string, { mutants: ReportMutant[] }][]>();
  for (const entry of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    const folder = folderOf(entry[0]);
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), entry]);
  }
  const folders = Object.fromEntries([...byFolder].map(([folder, files]) => [folder, score(files)]));
  const total = score(Object.entries(report.files));

  console.log(`mutation score per folder (${reportPath}, schema ${report.schemaVersion})`);
  const header = ['folder', 'score', 'covered', 'killed', 'timeout', 'survived', 'no cov', 'errors', 'ignored', 'pending', 'mutants'];
  const rows = [...Object.entries(folders), ['all', total] as const].map(([name, s]) => [
    name,
    formatScore(s.mutationScore),
    formatScore(s.coveredScore),
    ...[s.killed, s.timeout, s.survived, s.noCoverage, s.compileErrors + s.runtimeErrors, s.ignored, s.pending, s.mutants].map(String),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) {
    console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  }

  const survivors = Object.entries(report.files)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([file, { mutants }]) =>
      mutants
        .filter((m) => m.status === 'Survived')
        .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)
        .map((m) => ({ file, line: m.location.start.line, column: m.location.start.column, mutator: m.mutatorName, replacement: m.replacement ?? '' })),
    );
  if (listSurvivors) {
    console.log(`\n${survivors.length} surviving mutant(s):`);
    for (const s of survivors) {
      console.log(`${s.file}:${s.line}:${s.column} ${s.mutator}: ${s.replacement.replace(/\s+/g, ' ').slice(0, 160)}`);
    }
  }

  console.log(JSON.stringify({ report: reportPath, folders, total, survivors: listSurvivors ? survivors : undefined }));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
