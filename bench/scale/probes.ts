/**
 * What bench:scale watches from the outside: process memory (/proc), the server's Prometheus counters, and the
 * messages the fake SMTP server received (its JSONL record file, read incrementally).
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** `VmRSS` or `VmHWM` of a process in kB; undefined when it is gone (or not Linux). */
export async function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Proportional set size in kB (shared pages split among the processes mapping them): sums over PostgreSQL's processes honestly. */
export async function procPssKb(pid: number): Promise<number | undefined> {
  try {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    const match = /^Pss:\s+(\d+) kB/m.exec(rollup);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface RssPeaks {
  /** Highest sampled VmRSS of the worker, MB. */
  workerMb: number | null;
  /** Highest sampled sum of VmRSS over the server's processes, MB. */
  serverMb: number | null;
  /** Highest sampled sum of PSS over the server's persistence processes (PostgreSQL), MB; null when not watched. */
  persistenceMb: number | null;
  samples: number;
}

/**
 * Samples VmRSS of the worker and of the server's processes every `intervalMs`, keeping the peak per phase (the
 * phase is whatever `setPhase` said last; samples before the first phase are not kept).
 */
export class RssSampler {
  private phase: string | undefined;
  private readonly peaks = new Map<string, { worker: number; server: number; persistence: number; samples: number }>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly workerPid: () => number | undefined,
    private readonly serverPids: () => number[],
    private readonly persistencePids: () => number[] = () => [],
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  setPhase(phase: string): void {
    this.phase = phase;
  }

  private async sample(): Promise<void> {
    if (this.busy || this.phase === undefined) return;
    this.busy = true;
    try {
      const phase = this.phase;
      const workerPid = this.workerPid();
      const worker = workerPid === undefined ? 0 : ((await procStatusKb(workerPid, 'VmRSS')) ?? 0);
      let server = 0;
      for (const pid of this.serverPids()) server += (await procStatusKb(pid, 'VmRSS')) ?? 0;
      let persistence = 0;
      for (const pid of this.persistencePids()) persistence += (await procPssKb(pid)) ?? 0;
      const peak = this.peaks.get(phase) ?? { worker: 0, server: 0, persistence: 0, samples: 0 };
      peak.worker = Math.max(peak.worker, worker);
      peak.server = Math.max(peak.server, server);
      peak.persistence = Math.max(peak.persistence, persistence);
      peak.samples++;
      this.peaks.set(phase, peak);
    } finally {
      this.busy = false;
    }
  }

  /** Peaks of one phase, or over every phase when none is named. */
  peak(phase?: string): RssPeaks {
    const chosen = phase === undefined ? [...this.peaks.values()] : [this.peaks.get(phase)].filter((p) => p !== undefined);
    const mb = (kb: number) => (kb > 0 ? Math.round(kb / 1024) : null);
    return {
      workerMb: mb(Math.max(0, ...chosen.map((p) => p.worker))),
      serverMb: mb(Math.max(0, ...chosen.map((p) => p.server))),
      persistenceMb: mb(Math.max(0, ...chosen.map((p) => p.persistence))),
      samples: chosen.reduce((n, p) => n + p.samples, 0),
    };
  }
}

/**
 * Workflow task completions the server has answered so far: the sum of the frontend's `service_requests` counters
 * for operation RespondWorkflowTaskCompleted (Temporal server metrics, Prometheus text format). Undefined when the
 * endpoint does not answer or has no such counter yet.
 */
export async function workflowTasksCompleted(metricsUrl: string): Promise<number | undefined> {
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return undefined;
    const text = await res.text();
    let total = 0;
    let found = false;
    for (const line of text.split('\n')) {
      if (!line.startsWith('service_requests{')) continue;
      if (!line.includes('operation="RespondWorkflowTaskCompleted"')) continue;
      // History answers the same operation for the frontend: count each completion once, at the frontend.
      if (/service_name="(?!frontend)[^"]*"/.test(line)) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(value)) {
        total += value;
        found = true;
      }
    }
    return found ? total : 0;
  } catch {
    return undefined;
  }
}

/** One email the fake SMTP server received, keyed by what its Message-ID says. */
export interface ReceivedEmail {
  workflowId: string;
  runId: string;
  stepId: string;
  /** Epoch ms the fake recorded it (end of DATA). */
  at: number;
}

/** `<workflow.run.step@retention.local>` -> its parts (ids contain no dots: customer ids here are [a-z0-9-]). */
export function parseMessageId(messageId: string): Omit<ReceivedEmail, 'at'> | undefined {
  const match = /^<([^.@]+)\.([^.@]+)\.([^@]+)@/.exec(messageId.trim());
  if (!match) return undefined;
  return { workflowId: match[1] as string, runId: match[2] as string, stepId: match[3] as string };
}

/**
 * Follows the fake SMTP server's JSONL record file: `poll()` reads what was appended since the last call and keeps
 * the first receipt of each (workflow, step).
 */
export class SmtpTail {
  private offset = 0;
  private partial = '';
  /** `<workflowId> <stepId>` -> first receipt. */
  readonly first = new Map<string, ReceivedEmail>();
  total = 0;

  constructor(private readonly file: string) {}

  static key(workflowId: string, stepId: string): string {
    return `${workflowId} ${stepId}`;
  }

  poll(): number {
    if (!existsSync(this.file)) return 0;
    const fd = openSync(this.file, 'r');
    let added = 0;
    try {
      const size = fstatSync(fd).size;
      while (this.offset < size) {
        const buffer = Buffer.alloc(Math.min(size - this.offset, 4 * 1024 * 1024));
        const read = readSync(fd, buffer, 0, buffer.length, this.offset);
        if (read <= 0) break;
        this.offset += read;
        const lines = (this.partial + buffer.subarray(0, read).toString('utf8')).split('\n');
        this.partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          let record: { messageId?: string; at?: string };
          try {
            record = JSON.parse(line) as typeof record;
          } catch {
            continue;
          }
          const parts = parseMessageId(record.messageId ?? '');
          if (!parts || !record.at) continue;
          this.total++;
          const key = SmtpTail.key(parts.workflowId, parts.stepId);
          if (!this.first.has(key)) {
            this.first.set(key, { ...parts, at: Date.parse(record.at) });
            added++;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    return added;
  }
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface Distribution {
  n: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export function distribution(values: readonly number[]): Distribution {
  const round = (v: number | null) => (v === null ? null : Math.round(v));
  return { n: values.length, p50: round(percentile(values, 50)), p99: round(percentile(values, 99)), max: round(values.length ? Math.max(...values) : null) };
}
