import { emptyFigures, type Tally } from './tally';

/** One scenario's line in the final JSON: the tally's figures, and how the run went. */
export interface ScenarioResult
  extends Pick<Tally, 'expected' | 'delivered' | 'duplicates' | 'missing' | 'inDoubt' | 'quietHourViolations' | 'unexpected' | 'unfinished'> {
  name: string;
  seconds: number;
  notes: string[];
  /** Set when the scenario could not run to its count: the run fails. */
  error?: string;
}

/** Shared by every scenario: where to write, how big, how long. */
export interface RunContext {
  runDir: string;
  templatesDir: string;
  journeys: number;
  /** Overrides each scenario's own deadline (ms from the start of its burst). */
  deadlineMs?: number;
}

export interface Scenario {
  name: string;
  description: string;
  /** One result, or one per variant (the in-doubt scenario runs each policy). */
  run(ctx: RunContext): Promise<ScenarioResult | ScenarioResult[]>;
}

const LISTED = 12;

/** The first few entries of a list for the notes, with how many more there were. */
export function listed(title: string, items: string[]): string[] {
  if (items.length === 0) return [];
  const more = items.length > LISTED ? ` (+${items.length - LISTED} more)` : '';
  return [`${title}: ${items.slice(0, LISTED).join('; ')}${more}`];
}

export function resultFromTally(name: string, t: Tally, startedAt: number, notes: string[]): ScenarioResult {
  return {
    name,
    expected: t.expected,
    delivered: t.delivered,
    duplicates: t.duplicates,
    missing: t.missing,
    inDoubt: t.inDoubt,
    quietHourViolations: t.quietHourViolations,
    unexpected: t.unexpected,
    unfinished: t.unfinished,
    seconds: Math.round((Date.now() - startedAt) / 100) / 10,
    notes: [
      ...notes,
      ...listed('duplicates', t.duplicateKeys),
      ...listed('missing', t.missingLabels),
      ...listed('in doubt', t.inDoubtKeys),
      ...listed('unexpected', t.unexpectedLabels),
      ...listed('quiet-hour violations', t.quietViolations),
    ],
  };
}

/** A scenario that could not run to its count (setup failed): everything it should have checked is unknown. */
export function failedResult(name: string, startedAt: number, error: string): ScenarioResult {
  return {
    name,
    ...emptyFigures(),
    seconds: Math.round((Date.now() - startedAt) / 100) / 10,
    notes: [`scenario failed before counting: ${error}`],
    error,
  };
}
