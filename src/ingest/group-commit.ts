import { logFailure } from "../log";

interface Waiting<J> {
  job: J;
  weight: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The jobs of a key waiting for a flush, their weight, and how many flushes of the key run. */
interface KeyState<J> {
  waiting: Waiting<J>[];
  weight: number;
  running: number;
}

/**
 * Group commit: the jobs of one key (an appspace's writes) are flushed together.
 * While a flush of a key runs, the jobs that come wait, and the next flush takes
 * them all (up to `maxWeight`): concurrent requests share one transaction instead
 * of queueing for each other's locks and commits, and a job that finds the key idle
 * is flushed at once. Up to `parallel` flushes of a key run at once, the others
 * only for jobs waiting that weigh half a flush or more: the database then writes
 * one while the server prepares the next, where small jobs gain more from sharing
 * a transaction than from a second one.
 * When a flush of several jobs fails for what one of them holds (`isolates` tells),
 * each is flushed again alone, so that a job fails only for its own sake; any other
 * failure fails them all.
 */
export class GroupCommit<K, J> {
  private readonly keys = new Map<K, KeyState<J>>();

  constructor(
    private readonly flush: (key: K, jobs: J[]) => Promise<void>,
    private readonly weight: (job: J) => number,
    private readonly maxWeight: number,
    private readonly isolates: (err: unknown) => boolean,
    private readonly parallel = 1,
  ) {}

  /** Resolves once the job is committed (with the others of its flush). */
  run(key: K, job: J): Promise<void> {
    return new Promise((resolve, reject) => {
      let state = this.keys.get(key);
      if (!state) this.keys.set(key, (state = { waiting: [], weight: 0, running: 0 }));
      const weight = this.weight(job);
      state.waiting.push({ job, weight, resolve, reject });
      state.weight += weight;
      if (state.running === 0 || (state.running < this.parallel && 2 * state.weight >= this.maxWeight)) void this.drain(key, state);
    });
  }

  /** Resolves once no flush runs and no job waits (at shutdown, after the requests that bring jobs have stopped). */
  async idle(): Promise<void> {
    while (this.keys.size > 0) await new Promise(r => setTimeout(r, 10));
  }

  private async drain(key: K, state: KeyState<J>): Promise<void> {
    state.running++;
    const queue = state.waiting;
    while (queue.length) {
      // A second flush goes on only while half a flush is waiting; lighter jobs wait for the other to take them together.
      if (state.running > 1 && 2 * state.weight < this.maxWeight) break;
      let n = 1;
      let weight = queue[0].weight;
      for (; n < queue.length && weight + queue[n].weight <= this.maxWeight; n++) weight += queue[n].weight;
      state.weight -= weight;
      await this.settle(key, queue.splice(0, n));
    }
    if (--state.running === 0) this.keys.delete(key);
  }

  private async settle(key: K, group: Waiting<J>[]): Promise<void> {
    try {
      await this.flush(key, group.map(w => w.job));
    } catch (err) {
      if (group.length === 1 || !this.isolates(err)) return group.forEach(w => w.reject(err));
      logFailure("group commit", `a flush of ${group.length} jobs failed, each is flushed alone`, err);
      for (const one of group) await this.settle(key, [one]);
      return;
    }
    for (const w of group) w.resolve();
  }
}
