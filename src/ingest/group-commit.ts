interface Waiting<J> {
  job: J;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: the jobs of one key (an appspace's writes) are flushed together.
 * While a flush of a key runs, the jobs that come wait, and the next flush takes
 * them all (up to `maxWeight`): concurrent requests share one transaction instead
 * of queueing for each other's locks and commits, and a job that finds the key idle
 * is flushed at once. When a flush of several jobs fails for what one of them holds
 * (`isolates` tells), each is flushed again alone, so that a job fails only for its
 * own sake; any other failure fails them all.
 */
export class GroupCommit<K, J> {
  private readonly queues = new Map<K, Waiting<J>[]>();

  constructor(
    private readonly flush: (key: K, jobs: J[]) => Promise<void>,
    private readonly weight: (job: J) => number,
    private readonly maxWeight: number,
    private readonly isolates: (err: unknown) => boolean,
  ) {}

  /** Resolves once the job is committed (with the others of its flush). */
  run(key: K, job: J): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) queue.push({ job, resolve, reject });
      else void this.drain(key, [{ job, resolve, reject }]);
    });
  }

  private async drain(key: K, queue: Waiting<J>[]): Promise<void> {
    this.queues.set(key, queue);
    while (queue.length) {
      let n = 1;
      let weight = this.weight(queue[0].job);
      for (; n < queue.length; n++) {
        const next = this.weight(queue[n].job);
        if (weight + next > this.maxWeight) break;
        weight += next;
      }
      await this.settle(key, queue.splice(0, n));
    }
    this.queues.delete(key);
  }

  private async settle(key: K, group: Waiting<J>[]): Promise<void> {
    try {
      await this.flush(key, group.map(w => w.job));
    } catch (err) {
      if (group.length === 1 || !this.isolates(err)) return group.forEach(w => w.reject(err));
      console.error(`[group commit] a flush of ${group.length} jobs failed, each is flushed alone:`, err);
      for (const one of group) await this.settle(key, [one]);
      return;
    }
    for (const w of group) w.resolve();
  }
}
