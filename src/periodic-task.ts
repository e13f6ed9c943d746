import { DataSource } from "typeorm";
import { reportFailure } from "./db/health";

/**
 * A background job run every `intervalMs` once started, never two passes at a time:
 * a pass due while one runs is skipped. A pass is told to stop (its `stopping`
 * turns true) when the task is stopped, and stop() waits for it.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly label: string,
    private readonly intervalMs: number,
    private readonly pass: (stopping: () => boolean) => Promise<unknown>,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.kick(), this.intervalMs);
    this.timer.unref();
  }

  /** Starts a pass unless one is running or the task is not started; resolves when the pass running ends. */
  kick(): Promise<unknown> {
    if (!this.running && this.timer) {
      this.running = this.pass(() => !this.timer)
        .catch(err => reportFailure(this.db, this.label, "failed", err))
        .finally(() => (this.running = null));
    }
    return this.running ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
