/** The newest `capacity` items, newest first, without copying on every push. */
export class NewestFirst<T> {
  private items: T[] = [];
  private version = 0;
  constructor(readonly capacity: number) {}

  /** Adds items given oldest first. */
  pushAll(batch: readonly T[]): void {
    if (batch.length === 0) return;
    const fresh = batch.length >= this.capacity ? batch.slice(batch.length - this.capacity) : batch;
    const next = fresh.slice().reverse();
    const keep = this.capacity - next.length;
    this.items = keep > 0 ? next.concat(this.items.slice(0, keep)) : next;
    this.version++;
  }

  clear(): void {
    this.items = [];
    this.version++;
  }

  get list(): readonly T[] {
    return this.items;
  }
  get size(): number {
    return this.items.length;
  }
  get changes(): number {
    return this.version;
  }
}
