/**
 * Reads that every answer about a tenant repeats (fixes in flight, the approvals channel, the
 * tenant registry) are shared: a message arriving while the same read is running waits for that
 * read instead of starting its own, and — where the caller allows it with `keepMs` — a result is
 * reused until `keepMs` after its read began. With `keepMs` 0 nothing is kept once a read has
 * settled, so an answer is at most one read's duration older than a read of its own would be.
 * A failed read is never kept: the next caller reads again.
 *
 * The same object goes to every sharer: callers must treat it as read-only.
 */
interface Entry {
  result: Promise<unknown>;
  startedAt: number;
  settled: boolean;
}

export class ConcurrentReads {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: () => number = () => performance.now()) {}

  share<T>(key: string, read: () => Promise<T>, keepMs = 0): Promise<T> {
    const now = this.clock();
    const found = this.entries.get(key);
    if (found && (!found.settled || now - found.startedAt < keepMs)) return found.result as Promise<T>;
    const entry: Entry = { result: read(), startedAt: now, settled: false };
    this.entries.set(key, entry);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.result.then(
      () => {
        entry.settled = true;
        if (keepMs > 0) setTimeout(forget, keepMs).unref();
        else forget();
      },
      forget,
    );
    return entry.result as Promise<T>;
  }

  /** Drop what is kept under `key` (this process just changed it): the next caller reads afresh. */
  forget(key: string): void {
    this.entries.delete(key);
  }
}
