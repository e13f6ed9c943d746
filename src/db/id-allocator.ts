import { DataSource } from "typeorm";
import { toNumber, withTransaction } from "./sql";

const BLOCK_SIZE = 1000;

/**
 * Hands out unique ids for a sequence (hi/lo): one short transaction reserves a
 * block of ids in id_blocks, and later calls are served from memory until it is used.
 * Ids are unique across processes; gaps are normal.
 */
export class IdAllocator {
  private next = 0;
  private end = 0;
  private refill: Promise<void> | null = null;

  constructor(private readonly db: DataSource, private readonly sequence: string) {}

  async take(count: number): Promise<number[]> {
    const ids: number[] = [];
    while (ids.length < count) {
      if (this.next >= this.end) {
        this.refill ??= this.reserve(Math.max(BLOCK_SIZE, count - ids.length)).finally(() => (this.refill = null));
        await this.refill;
        continue;
      }
      ids.push(this.next++);
    }
    return ids;
  }

  private async reserve(size: number): Promise<void> {
    const end = await withTransaction(this.db, async em => {
      await em.query("UPDATE id_blocks SET next_id = next_id + ? WHERE name = ?", [size, this.sequence]);
      const rows: { next_id: unknown }[] = await em.query("SELECT next_id FROM id_blocks WHERE name = ?", [this.sequence]);
      if (rows.length === 0) throw new Error(`id sequence ${this.sequence} is missing`);
      return toNumber(rows[0].next_id);
    });
    this.next = end - size;
    this.end = end;
  }
}
