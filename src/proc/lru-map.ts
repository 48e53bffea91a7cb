/**
 * A Map bounded to `maxSize` entries that drops its least recently used entry when full. A Map
 * iterates in insertion order, so moving an entry to the end on use keeps the oldest first.
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    private readonly maxSize: number,
    /** Called for each entry dropped to make room, so the owner can count it. */
    private readonly onEvict: () => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** The value, its place in the order unchanged. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.maxSize) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
      this.onEvict();
    }
  }

  /** Least recently used first. */
  keys(): IterableIterator<K> {
    return this.entries.keys();
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
