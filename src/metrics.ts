/**
 * Counters of what the server did that an operator watches (retried transactions, ...), by name, in this process.
 * Names follow Prometheus' conventions (`_total` for counters), for the ops metrics to expose as they are.
 */
const counters = new Map<string, number>();

export function count(name: string, n = 1): void {
  counters.set(name, (counters.get(name) ?? 0) + n);
}

export function counted(name: string): number {
  return counters.get(name) ?? 0;
}
