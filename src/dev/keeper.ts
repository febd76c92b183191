import type { ExitInfo, ManagedProcess } from './supervisor';
import { sleep } from './wait';

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * What a process manager (systemd, Kubernetes) does for the worker: whenever it is found dead, for whatever reason
 * (the scenario killed it, a fake killed it on receipt), start it again with the same environment.
 */
export class Keeper {
  /** Epoch ms at which the process was found dead. */
  readonly deaths: number[] = [];
  /** How each death looked: a signal (SIGKILL by the suite or a fake) or an exit code (the process gave up). */
  readonly exits: ExitInfo[] = [];
  /** Failed restarts (the process exited again, or was not ready in time). */
  readonly failedStarts: string[] = [];
  restarts = 0;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly process: ManagedProcess,
    private readonly log: (line: string) => void = () => undefined,
    /** Called after each successful restart (the process has a new pid). */
    private readonly onRestart: () => Promise<void> | void = () => undefined,
  ) {
    this.loop = this.watch();
  }

  private async watch(): Promise<void> {
    let startFailed = false;
    while (!this.stopped) {
      if (!this.process.running) {
        // A start that failed is counted there, not again as a death.
        if (!startFailed) {
          this.deaths.push(Date.now());
          this.exits.push(await this.process.exited());
        }
        startFailed = false;
        await sleep(300);
        if (this.stopped) break;
        try {
          this.log(`${this.process.name} exited (${describeExit(this.exits.at(-1))}): starting it again`);
          await this.process.start();
          this.restarts++;
          await this.onRestart();
        } catch (err) {
          startFailed = true;
          this.failedStarts.push(errorText(err).split('\n')[0] ?? '');
          this.log(`${this.process.name} did not restart: ${errorText(err)}`);
          await sleep(1000);
        }
      }
      await sleep(200);
    }
  }

  /** `2 x SIGKILL, 1 x exit code 1; 1 failed restart`: for the notes. */
  describe(): string {
    const counts = new Map<string, number>();
    for (const e of this.exits) {
      const what = describeExit(e);
      counts.set(what, (counts.get(what) ?? 0) + 1);
    }
    const deaths = [...counts].map(([what, n]) => `${n} x ${what}`).join(', ') || 'none';
    const failed = this.failedStarts.length > 0 ? `; ${this.failedStarts.length} failed restarts (first: ${this.failedStarts[0]})` : '';
    return `${this.process.name} deaths: ${deaths}; restarts: ${this.restarts}${failed}`;
  }

  /** Stops watching (before the process is stopped on purpose). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

function describeExit(e: ExitInfo | undefined): string {
  return e?.signal ? e.signal : `exit code ${e?.code}`;
}
