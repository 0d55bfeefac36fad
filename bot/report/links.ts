/**
 * Signed, expiring links to generated files (`/reports/{id}?token=…`), and the shelf that holds
 * those files until they expire (in the database in Vigil itself — bot/store/reportFiles.ts — so
 * any process can serve them; in memory for the command line and tests).
 *
 * The id is 128 random bits (never guessable, never derived from the tenant or the date); the
 * token is `<expiry, unix seconds>.<HMAC-SHA256 over the id and that expiry>`, base64url. A link
 * is refused when the token is missing, malformed, signed with another key, made for another id,
 * or past its expiry; the expiry is inside the signed data, so it cannot be extended.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ReportFile } from '../store/reportFiles';

export type LinkCheck = 'ok' | 'missing' | 'invalid' | 'expired';

const CONTEXT = 'vigil/report-link/v1';

export class LinkSigner {
  private readonly key: Buffer;

  /**
   * @param secret REPORT_LINK_SECRET (at least 32 characters), or undefined for a random key that
   *               lives as long as this process (links then die with it).
   */
  constructor(
    secret: string | undefined,
    readonly ttlMinutes: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  sign(id: string): { token: string; expiresAt: Date } {
    const exp = Math.floor(this.now().getTime() / 1000) + Math.round(this.ttlMinutes * 60);
    return { token: `${exp}.${this.mac(id, exp)}`, expiresAt: new Date(exp * 1000) };
  }

  verify(id: string, token: string | undefined | null): LinkCheck {
    if (!token) return 'missing';
    const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return 'invalid';
    const exp = Number(m[1]);
    const expected = Buffer.from(this.mac(id, exp), 'utf8');
    const given = Buffer.from(m[2], 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    return this.now().getTime() >= exp * 1000 ? 'expired' : 'ok';
  }

  private mac(id: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${CONTEXT}\n${id}\n${exp}`).digest('base64url');
  }
}

/** A generated file with its owner and lifetime (the database row's shape: bot/store/reportFiles.ts). */
export type StoredFile = ReportFile;

/** Where generated files wait until they expire. */
export interface Shelf {
  put(file: Omit<StoredFile, 'id' | 'createdAt' | 'expiresAt'>, ttlMs: number): Promise<StoredFile>;
  get(id: string): Promise<StoredFile | undefined>;
  delete(id: string): Promise<void>;
}

/** Generated files, in memory, until they expire; the oldest are dropped beyond `maxFiles`. */
export class FileShelf implements Shelf {
  private readonly files = new Map<string, StoredFile>();

  constructor(
    private readonly now: () => Date = () => new Date(),
    private readonly maxFiles = 200,
  ) {}

  async put(file: Omit<StoredFile, 'id' | 'createdAt' | 'expiresAt'>, ttlMs: number): Promise<StoredFile> {
    this.purge();
    const createdAt = this.now();
    const stored: StoredFile = { ...file, id: randomBytes(16).toString('base64url'), createdAt, expiresAt: new Date(createdAt.getTime() + ttlMs) };
    this.files.set(stored.id, stored);
    while (this.files.size > this.maxFiles) this.files.delete(this.files.keys().next().value as string);
    return stored;
  }

  async get(id: string): Promise<StoredFile | undefined> {
    const f = this.files.get(id);
    if (!f) return undefined;
    if (f.expiresAt.getTime() <= this.now().getTime()) {
      this.files.delete(id);
      return undefined;
    }
    return f;
  }

  async delete(id: string): Promise<void> {
    this.files.delete(id);
  }

  private purge(): void {
    const t = this.now().getTime();
    for (const [id, f] of this.files) if (f.expiresAt.getTime() <= t) this.files.delete(id);
  }
}
