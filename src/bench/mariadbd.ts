import { ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";

/**
 * A MariaDB server of a test's or a benchmark's own (its data directory and port), to stop and start again: the shared
 * server is never stopped by a test. `mariadbd` and `mariadb-install-db` must be on the PATH.
 */
export class ThrowawayMariadb {
  private child: ChildProcess | null = null;

  private constructor(readonly dir: string, readonly port: number, private readonly args: readonly string[]) {}

  /**
   * A new server with an empty database `analytics`; with `serverId`, a replication primary (binary log on); with
   * `replicaOf` too, a replica of that primary instead, replicating everything it has logged (the database included).
   */
  static async create(opts: { serverId?: number; replicaOf?: ThrowawayMariadb; bufferPool?: string } = {}): Promise<ThrowawayMariadb> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mariadbd-"));
    execFileSync("mariadb-install-db", ["--no-defaults", `--datadir=${dir}/data`, "--user=root", "--auth-root-authentication-method=normal"], { stdio: "ignore" });
    const replication = opts.serverId ? [`--server-id=${opts.serverId}`, "--log-bin=binlog", "--binlog-format=ROW"] : ["--skip-log-bin"];
    const server = new ThrowawayMariadb(dir, await freePort(), [...replication, `--innodb-buffer-pool-size=${opts.bufferPool ?? "64M"}`]);
    await server.start();
    const admin = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root" });
    if (opts.replicaOf) {
      await admin.query(`CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${opts.replicaOf.port}, MASTER_USER = 'root', MASTER_USE_GTID = slave_pos`);
      await admin.query("START SLAVE");
    } else {
      await admin.query("CREATE DATABASE analytics CHARACTER SET utf8mb4");
    }
    await admin.end();
    return server;
  }

  /** A statement run as root on this server (replication control). */
  async admin(statement: string): Promise<unknown> {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: this.port, user: "root" });
    try {
      const [rows] = await c.query(statement);
      return rows;
    } finally {
      await c.end();
    }
  }

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/analytics`;
  }

  async start(): Promise<void> {
    this.child = spawn("mariadbd", [
      "--no-defaults", `--datadir=${this.dir}/data`, `--port=${this.port}`, `--socket=${this.dir}/s`, "--user=root",
      "--bind-address=127.0.0.1", ...this.args,
    ], { stdio: "ignore" });
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        const c = await mysql.createConnection({ host: "127.0.0.1", port: this.port, user: "root" });
        await c.end();
        return;
      } catch (err) {
        if (Date.now() > until) throw err;
        await new Promise(r => setTimeout(r, 100));
      }
    }
  }

  /** Freezes the server (SIGSTOP): it keeps its connections and answers nothing, as a hung host would. */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  /** Lets a paused server go on (SIGCONT). */
  resume(): void {
    this.child?.kill("SIGCONT");
  }

  /** Stops the server (a clean shutdown) and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise(r => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    this.child = null;
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A TCP port free on 127.0.0.1 now, for a server of a test's own. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
