import { Presets, SingleBar } from 'cli-progress';
import type { BulkProgress } from '../bulk-start';
import type { CliOutput } from './io';

export interface ProgressReporter {
  update(progress: BulkProgress): void;
  stop(): void;
}

const PLAIN_INTERVAL_MS = 2_000;

function counts(p: BulkProgress): string {
  return `started ${p.started}, already running ${p.alreadyRunning}, already ran ${p.alreadyRan}, rejected ${p.rejected}, failed ${p.failed}`;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}

/**
 * Shows bulk-start progress on stderr: a live bar with rate and ETA on a terminal, a plain line every few seconds
 * otherwise (logs, CI). `total` is the estimated number of data rows; 0 shows the rate alone.
 */
export function progressReporter(out: CliOutput, total: number): ProgressReporter {
  const began = Date.now();
  const rate = (processed: number) => processed / Math.max(0.001, (Date.now() - began) / 1000);

  if (out.isTTY) {
    const bar = new SingleBar(
      {
        stream: out as NodeJS.WritableStream,
        format: `{bar} {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {eta_formatted} | {counts}`,
        etaBuffer: 200,
        fps: 5,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    bar.start(Math.max(total, 1), 0, { rate: '0', counts: '' });
    return {
      update(p) {
        if (p.processed > bar.getTotal()) bar.setTotal(p.processed);
        bar.update(p.processed, { rate: rate(p.processed).toFixed(0), counts: counts(p) });
      },
      stop: () => bar.stop(),
    };
  }

  let lastPrint = began;
  return {
    update(p) {
      const now = Date.now();
      if (now - lastPrint < PLAIN_INTERVAL_MS) return;
      lastPrint = now;
      const perSecond = rate(p.processed);
      const of = total > 0 ? `/${total} rows (${Math.min(100, Math.floor((p.processed / total) * 100))}%)` : ' rows';
      const eta = total > 0 ? `, ETA ${formatSeconds(Math.max(0, total - p.processed) / perSecond)}` : '';
      out.write(`progress: ${p.processed}${of}, ${perSecond.toFixed(0)} rows/s${eta}; ${counts(p)}\n`);
    },
    stop: () => undefined,
  };
}
