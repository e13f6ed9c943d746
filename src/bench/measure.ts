import { ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import { startArgs } from "../start-command";

/*
 * What the benchmarks (bench.ts, scaling.ts) measure with: loads, timings, failures counted, servers started as
 * `npm start` starts them, and the reports' queries.
 */

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** Times `fn` `runs` times, or as often as fits in `budgetSeconds` (at least 3); the durations in ms. */
export async function timed(fn: () => Promise<unknown>, runs: number, budgetSeconds: number): Promise<number[]> {
  const times: number[] = [];
  const until = Date.now() + budgetSeconds * 1000;
  while (times.length < runs && (times.length < 3 || Date.now() < until)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

/** Runs `worker` on `concurrency` loops for `seconds`; the units done per second and the p99 latency. */
export async function load(concurrency: number, seconds: number, worker: (n: number) => Promise<number>) {
  const until = Date.now() + seconds * 1000;
  const latencies: number[] = [];
  let units = 0;
  let n = 0;
  const start = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < until) {
      const t = performance.now();
      const done = await worker(n++); // not `units += await ...`, which would add to the value read before the await
      units += done;
      latencies.push(performance.now() - t);
    }
  }));
  return { perSecond: units / ((Date.now() - start) / 1000), p99: percentile(latencies, 99) };
}

export const TRACK_EVENTS = "mutation ($events: [EventInput!]!) { trackEvents(events: $events) { accepted errors { code } } }";
export const TRACK_EVENT = "mutation ($event: EventInput!) { trackEvent(event: $event) { ok } }";

export async function post(url: string, key: string | null, body: unknown): Promise<any> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200 || (json as { errors?: unknown }).errors) throw new Error(`request failed: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/**
 * The failures of an ingest phase: answers other than 2xx (by status; 0 for no answer at all) and events a 2xx answer
 * did not accept. Counted, not thrown, so that a phase runs its whole time; any failure fails the run at its end.
 */
export class Failures {
  readonly statuses = new Map<number, number>();
  events = 0;

  /** Sends an ingest request; its JSON when answered 2xx, else null (counted). */
  async post(url: string, key: string | null, body: unknown): Promise<any> {
    let res: Response;
    try {
      res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(body) });
    } catch {
      this.statuses.set(0, (this.statuses.get(0) ?? 0) + 1);
      return null;
    }
    const text = await res.text();
    if (res.status < 200 || res.status > 299) {
      this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
      if (this.statuses.size === 1 && this.statuses.get(res.status) === 1) console.error(`first failed request: ${res.status} ${text.slice(0, 300)}`);
      return null;
    }
    return JSON.parse(text);
  }

  get requests(): number {
    return [...this.statuses.values()].reduce((a, b) => a + b, 0);
  }

  describe(): string {
    const statuses = [...this.statuses].map(([status, n]) => `${n} x ${status === 0 ? "no answer" : `HTTP ${status}`}`);
    return `${this.requests} failed requests${statuses.length ? ` (${statuses.join(", ")})` : ""}, ${this.events} events not accepted`;
  }
}

/** Starts script as `npm start` starts the server (same node arguments) with env in a process of its own; resolves with it once it prints a line matching `ready`. */
export async function spawnReady(script: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, startArgs(script), { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stderr!.on("data", d => process.stderr.write(d));
  return new Promise((resolve, reject) => {
    const read = (d: Buffer) => {
      out += d;
      const match = ready.exec(out);
      if (!match) return;
      // Its log lines from here on (one per request) are read and dropped, not kept.
      child.stdout!.off("data", read);
      child.stdout!.resume();
      resolve({ child, match });
    };
    child.stdout!.on("data", read);
    child.once("exit", code => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

/** The resident memory of a process and its children, from /proc (Linux). */
export function rssOf(pid: number): number {
  const children = fs.readdirSync("/proc").filter(p => /^\d+$/.test(p)).filter(p => {
    try {
      return Number(fs.readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ")[1]) === pid;
    } catch {
      return false;
    }
  });
  const own = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
  return own + children.reduce((sum, child) => sum + rssOf(Number(child)), 0);
}

export const REPORTS: Record<string, string> = {
  overview: "{ overview { totalRevenue netRevenue totalOrders totalRefunds refundAmount avgOrderValue totalItemsSold cartAbandonmentRate addToCartRate } }",
  revenueTimeseries: "{ revenueTimeseries { series { date revenue orders } } }",
  funnel: "{ funnel { steps { name count percentage } } }",
  topProducts: "{ topProducts(limit: 20) { products { itemId revenue quantity orders product { name } } } }",
  revenueByChannel: "{ revenueByChannel { channels { campaign source medium revenue orders conversionRate } } }",
  revenueByCoupon: "{ revenueByCoupon { coupons { couponCode revenue orders avgDiscount } } }",
  revenueByDevice: "{ revenueByDevice { devices { deviceType revenue orders } } }",
  revenueByCountry: "{ revenueByCountry { countries { country revenue orders } } }",
  revenueBreakdown: "{ revenueBreakdown(by: [SOURCE, COUPON, COUNTRY]) { rows { source couponCode country revenue orders items } } }",
  cartAbandonment: "{ cartAbandonment { abandonmentRate abandonedCarts abandonedRevenue completedCarts } }",
  attribution: "{ attribution(model: LINEAR) { attributed { campaign source medium revenue orders } unattributed { revenue orders } } }",
  cohorts: "{ cohorts(months: 6) { avgLtv totalPurchasingUsers cohorts { month users } } }",
};

/** The markers of BENCHMARKS.md's section written by `npm run bench:scaling`, which `npm run bench` keeps. */
export const SCALING_START = "<!-- scaling: npm run bench:scaling writes this section -->";
export const SCALING_END = "<!-- end of scaling -->";

/** The scaling section of a BENCHMARKS.md text, markers included; "" when it has none. */
export function scalingSectionOf(text: string): string {
  const [start, end] = [text.indexOf(SCALING_START), text.indexOf(SCALING_END)];
  return start >= 0 && end > start ? text.slice(start, end + SCALING_END.length) : "";
}
