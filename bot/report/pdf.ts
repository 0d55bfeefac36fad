/**
 * The one-page (two at most) PDF a business owner can read: the tenant and date, an overall
 * grade, each check as a red/amber/green row with one plain-English line, the top findings with
 * names, the Secure Score and its trend as a small chart, and what Vigil could not check.
 *
 * Drawn with pdfkit (absolute layout, vector shapes for the badges and the chart). The DejaVu Sans
 * fonts are embedded (subset) from the `dejavu-fonts-ttf` package: no network, no system fonts,
 * and names in Latin, Greek or Cyrillic script print as written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import PDFDocument from 'pdfkit';
import { RATING_LABEL, byRating, countActionableFindings, countRatings, gapsOf, plural, secureScoreOf, topFindings } from './rating';
import type { Audit, AuditedCheck, Rating, SecureScoreView, Severity } from './types';

export interface PdfOptions {
  /** Top findings listed (default 8). */
  topFindings?: number;
}

export interface RenderedPdf {
  bytes: Buffer;
  pages: number;
  fileName: string;
}

type Doc = PDFKit.PDFDocument;

// --- Look ---------------------------------------------------------------------------------------

const PAGE = { width: 595.28, height: 841.89 };
const M = 40; // margin
const LEFT = M;
const RIGHT = PAGE.width - M;
const WIDTH = RIGHT - LEFT;
const FOOTER_TOP = PAGE.height - 34;
const BOTTOM = FOOTER_TOP - 10;

const INK = '#1B1F24';
const MUTED = '#5B6470';
const HAIRLINE = '#D9DEE4';
const PANEL = '#F4F6F8';
const NAVY = '#1F4E79';

export const RATING_COLOR: Record<Rating, string> = { red: '#C62828', amber: '#D98200', green: '#2E7D32', info: '#1F6FB2', unknown: '#8A939E' };
const RATING_TINT: Record<Rating, string> = { red: '#FDECEC', amber: '#FFF4E0', green: '#EDF6ED', info: '#E8F1FA', unknown: '#F1F3F5' };
/** The word on each row's coloured pill. */
export const PILL: Record<Rating, string> = { red: 'DANGER', amber: 'ATTENTION', green: 'GOOD', info: 'INFO', unknown: 'NOT CHECKED' };
const SEVERITY_COLOR: Record<Severity, string> = { high: RATING_COLOR.red, medium: RATING_COLOR.amber, low: RATING_COLOR.unknown, info: RATING_COLOR.info };
const SEVERITY_WORD: Record<Severity, string> = { high: 'High', medium: 'Medium', low: 'Low', info: 'Info' };

// --- Fonts (embedded, read once) ----------------------------------------------------------------------

const FONT_FILES = {
  regular: 'DejaVuSans.ttf',
  bold: 'DejaVuSans-Bold.ttf',
  cond: 'DejaVuSansCondensed.ttf',
  condBold: 'DejaVuSansCondensed-Bold.ttf',
} as const;
type FontName = keyof typeof FONT_FILES;
let fontCache: Record<FontName, Buffer> | undefined;

function fonts(): Record<FontName, Buffer> {
  if (!fontCache) {
    const dir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    fontCache = Object.fromEntries(Object.entries(FONT_FILES).map(([k, f]) => [k, fs.readFileSync(path.join(dir, f))])) as Record<FontName, Buffer>;
  }
  return fontCache;
}

// --- Entry point --------------------------------------------------------------------------------------

export function reportFileName(audit: Audit, ext: 'pdf' | 'csv', suffix = ''): string {
  const slug =
    audit.tenant.name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48) || 'tenant';
  return `vigil-${slug}${suffix ? `-${suffix}` : ''}-${audit.generatedAt.toISOString().slice(0, 10)}.${ext}`;
}

export async function renderPdf(audit: Audit, opts: PdfOptions = {}): Promise<RenderedPdf> {
  const doc = new PDFDocument({
    size: 'A4',
    // Layout is absolute; zero margins stop pdfkit from adding pages on its own.
    margin: 0,
    bufferPages: true,
    autoFirstPage: true,
    lang: 'en-GB',
    displayTitle: true,
    info: {
      Title: `Security report: ${audit.tenant.name}, ${longDate(audit.generatedAt)}`,
      Author: 'Vigil',
      Subject: 'Microsoft 365 security posture',
      Creator: 'Vigil',
      CreationDate: audit.generatedAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });
  for (const [name, bytes] of Object.entries(fonts())) doc.registerFont(name, bytes);

  new Layout(doc, audit, opts).draw();

  const pages = doc.bufferedPageRange().count;
  doc.end();
  await ended;
  return { bytes: Buffer.concat(chunks), pages, fileName: reportFileName(audit, 'pdf') };
}

// --- Layout -----------------------------------------------------------------------------------------

class Layout {
  private y = 0;
  private page = 1;
  private static readonly MAX_PAGES = 2;

  constructor(
    private readonly doc: Doc,
    private readonly audit: Audit,
    private readonly opts: PdfOptions,
  ) {}

  draw(): void {
    this.header();
    this.summary();
    this.checkRows();
    this.findings();
    this.gaps();
    this.footers();
  }

  // Header band: what, whose, when — and the grade.
  private header(): void {
    const { doc, audit } = this;
    doc.rect(0, 0, PAGE.width, 94).fill(NAVY);
    this.font('bold', 8).fillColor('#BFD3E6').text('MICROSOFT 365 SECURITY REPORT', LEFT, 21, { lineBreak: false, characterSpacing: 0.6 });
    this.font('bold', 21).fillColor('#FFFFFF');
    doc.text(this.fit(audit.tenant.name, WIDTH - 150), LEFT, 35, { lineBreak: false });
    const when = [longDate(audit.generatedAt), audit.tenant.domain, 'prepared by Vigil'].filter(Boolean).join('  ·  ');
    this.font('regular', 9).fillColor('#DCE6F0').text(this.fit(when, WIDTH - 150), LEFT, 66, { lineBreak: false });

    const letter = audit.grade.letter;
    const color = letter === 'A' || letter === 'B' ? RATING_COLOR.green : letter === 'C' ? RATING_COLOR.amber : letter ? RATING_COLOR.red : RATING_COLOR.unknown;
    const size = 64;
    const bx = RIGHT - size;
    const by = 15;
    doc.roundedRect(bx, by, size, size, 10).fill('#FFFFFF');
    doc.roundedRect(bx + 3, by + 3, size - 6, size - 6, 8).fill(color);
    this.font('bold', 34).fillColor('#FFFFFF').text(letter ?? '–', bx, by + 11, { width: size, align: 'center', lineBreak: false });
    this.font('bold', 7).fillColor('#BFD3E6').text('OVERALL GRADE', bx - 90, by + 27, { width: 82, align: 'right', lineBreak: false, characterSpacing: 0.6 });
    this.y = 108;
  }

  // The grade in one sentence, the counts, and the Secure Score panel beside them.
  private summary(): void {
    const { doc, audit } = this;
    const top = this.y;
    const textWidth = WIDTH - 210;
    this.font('bold', 13).fillColor(INK);
    doc.text(audit.grade.summary, LEFT, top, { width: textWidth, lineGap: 1 });
    let y = doc.y + 8;

    const n = countRatings(audit.checks);
    let x = LEFT;
    for (const r of ['red', 'amber', 'green', 'info', 'unknown'] as Rating[]) {
      if (!n[r]) continue;
      const label = `${n[r]} ${RATING_LABEL[r].toLowerCase()}`;
      this.font('bold', 8.5);
      const w = doc.widthOfString(label) + 22;
      if (x + w > LEFT + textWidth) {
        x = LEFT;
        y += 20;
      }
      doc.roundedRect(x, y, w, 16, 8).fill(RATING_TINT[r]);
      doc.circle(x + 9, y + 8, 3.2).fill(RATING_COLOR[r]);
      doc.fillColor(INK).text(label, x + 16, y + 4, { lineBreak: false });
      x += w + 6;
    }
    y += 24;
    const checked = audit.checks.length;
    this.font('regular', 8.5).fillColor(MUTED);
    doc.text(
      `Vigil looked at ${checked} ${plural(checked, 'area')} of your Microsoft 365 set-up. Red means danger: fix those first. ` +
        'Amber items are worth tidying up; green ones are fine.',
      LEFT,
      y,
      { width: textWidth, lineGap: 1 },
    );
    const leftBottom = doc.y;
    const panelBottom = this.secureScorePanel(RIGHT - 196, top - 4, 196);
    this.y = Math.max(leftBottom, panelBottom) + 12;
  }

  private secureScorePanel(x: number, y: number, w: number): number {
    const { doc } = this;
    const h = 98;
    doc.roundedRect(x, y, w, h, 6).fill(PANEL);
    this.font('bold', 7.5).fillColor(MUTED).text('MICROSOFT SECURE SCORE', x + 12, y + 10, { lineBreak: false, characterSpacing: 0.5 });
    const score = secureScoreOf(this.audit.checks);
    if (!score) {
      this.font('bold', 12).fillColor(MUTED).text('Secure Score unavailable', x + 12, y + 30, { lineBreak: false });
      const check = this.audit.checks.find((c) => c.check.id === 'securescore');
      const why = check ? (check.result.gaps[0]?.reason ?? check.result.reason) : 'The Secure Score check did not run in this report.';
      this.font('regular', 7.5).fillColor(MUTED).text(this.clamp(why, w - 24, 4), x + 12, y + 50, { width: w - 24 });
      return y + h;
    }
    const current = round1(score.current);
    this.font('bold', 22).fillColor(INK).text(String(current), x + 12, y + 22, { lineBreak: false });
    const numberWidth = doc.widthOfString(String(current));
    if (score.max) {
      this.font('regular', 10).fillColor(MUTED);
      doc.text(` / ${round1(score.max)}  (${Math.round((score.current / score.max) * 100)}%)`, x + 12 + numberWidth, y + 33, { lineBreak: false });
    }
    const trend = trendOf(score);
    if (trend) {
      const color = trend.delta < 0 ? RATING_COLOR.red : trend.delta > 0 ? RATING_COLOR.green : MUTED;
      const text =
        trend.delta === 0
          ? `No change in ${trend.days} days`
          : `${trend.delta < 0 ? '▼ Down' : '▲ Up'} ${round1(Math.abs(trend.delta))} ${plural(Math.abs(trend.delta), 'point')} in ${trend.days} days`;
      this.font('bold', 7.5).fillColor(color).text(text, x + 12, y + 51, { lineBreak: false });
    }
    this.sparkline(score, x + 12, y + 62, w - 24, 22);
    return y + h;
  }

  private sparkline(score: SecureScoreView, x: number, y: number, w: number, h: number): void {
    const { doc } = this;
    const pts = score.history.length ? score.history : [{ date: this.audit.generatedAt.toISOString(), score: score.current }];
    const values = pts.map((p) => p.score);
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    if (hi - lo < 4) {
      const mid = (hi + lo) / 2;
      lo = mid - 2;
      hi = mid + 2;
    }
    const t0 = Date.parse(pts[0].date);
    const t1 = Date.parse(pts[pts.length - 1].date);
    const px = (d: string) => (t1 > t0 ? x + ((Date.parse(d) - t0) / (t1 - t0)) * w : x + w);
    const py = (s: number) => y + h - ((s - lo) / (hi - lo)) * h;
    doc.moveTo(x, y + h).lineTo(x + w, y + h).lineWidth(0.5).strokeColor(HAIRLINE).stroke();
    if (pts.length > 1) {
      doc.moveTo(px(pts[0].date), y + h);
      for (const p of pts) doc.lineTo(px(p.date), py(p.score));
      doc.lineTo(px(pts[pts.length - 1].date), y + h).closePath().fillOpacity(0.12).fill(NAVY).fillOpacity(1);
      doc.moveTo(px(pts[0].date), py(pts[0].score));
      for (const p of pts.slice(1)) doc.lineTo(px(p.date), py(p.score));
      doc.lineWidth(1.3).lineJoin('round').strokeColor(NAVY).stroke();
    }
    const last = pts[pts.length - 1];
    doc.circle(px(last.date), py(last.score), 2.2).fill(NAVY);
    this.font('regular', 6.5).fillColor(MUTED);
    if (pts.length > 1) doc.text(shortDate(new Date(t0)), x, y + h + 2, { lineBreak: false });
    doc.text('today', x + w - 40, y + h + 2, { width: 40, align: 'right', lineBreak: false });
  }

  // One row per check, danger first.
  private checkRows(): void {
    this.sectionTitle('How each area looks');
    const { doc } = this;
    const rows = byRating(this.audit.checks);
    const titleX = LEFT + 84;
    const titleW = 132;
    const reasonX = titleX + titleW + 8;
    const reasonW = RIGHT - reasonX - 6;
    rows.forEach(({ check, result, rating }, i) => {
      this.font('condBold', 9.2);
      const title = this.clamp(check.title, titleW, 2);
      const titleLines = doc.heightOfString(title, { width: titleW }) > doc.currentLineHeight(true) + 1 ? 2 : 1;
      this.font('cond', 8.6);
      const reason = this.clamp(rowText(result), reasonW, 2);
      const reasonLines = doc.heightOfString(reason, { width: reasonW }) > doc.currentLineHeight(true) + 1 ? 2 : 1;
      const h = Math.max(titleLines, reasonLines) === 2 ? 25 : 18;
      if (!this.ensure(h)) return;
      const y = this.y;
      if (i % 2 === 0) doc.rect(LEFT, y, WIDTH, h).fill('#F8F9FA');
      doc.rect(LEFT, y, 3, h).fill(RATING_COLOR[rating]);
      doc.roundedRect(LEFT + 10, y + (h - 14) / 2, 66, 14, 7).fill(RATING_COLOR[rating]);
      this.font('bold', 6.6).fillColor('#FFFFFF').text(PILL[rating], LEFT + 10, y + (h - 14) / 2 + 3.6, { width: 66, align: 'center', lineBreak: false, characterSpacing: 0.3 });
      this.font('condBold', 9.2).fillColor(INK).text(title, titleX, y + (titleLines === 2 ? 2.5 : (h - 11) / 2), { width: titleW, lineGap: -1 });
      this.font('cond', 8.6).fillColor(rating === 'green' ? MUTED : INK);
      doc.text(reason, reasonX, y + (reasonLines === 2 ? 3 : (h - 10.5) / 2), { width: reasonW, lineGap: -0.5 });
      this.y = y + h;
    });
    doc.moveTo(LEFT, this.y).lineTo(RIGHT, this.y).lineWidth(0.5).strokeColor(HAIRLINE).stroke();
    this.y += 12;
  }

  // The most important findings, with names. As many as fit on the first page beside the gaps
  // (at least five), up to the limit; the rest are counted.
  private findings(): void {
    const { doc } = this;
    const rowH = 23.5;
    const limit = this.opts.topFindings ?? 8;
    const room = Math.floor((BOTTOM - this.y - 17 - this.gapsHeight() - 14) / rowH);
    const top = topFindings(this.audit.checks, Math.max(Math.min(limit, room), Math.min(5, limit)));
    const total = countActionableFindings(this.audit.checks);
    if (!this.ensure(17 + rowH)) return;
    this.sectionTitle(top.length ? `Top ${top.length} things to fix` : 'Things to fix');
    if (!top.length) {
      this.font('regular', 9).fillColor(MUTED).text('Nothing to fix: Vigil found no risky accounts or settings.', LEFT, this.y, { width: WIDTH });
      this.y = doc.y + 14;
      return;
    }
    let shown = 0;
    for (const [i, { finding, checkTitle }] of top.entries()) {
      if (!this.ensure(rowH)) break;
      const y = this.y;
      doc.circle(LEFT + 8, y + 8, 7.5).fill(SEVERITY_COLOR[finding.severity]);
      this.font('bold', 8).fillColor('#FFFFFF').text(String(i + 1), LEFT + 0.5, y + 4, { width: 15, align: 'center', lineBreak: false });
      const textX = LEFT + 24;
      const tagW = 160;
      this.font('bold', 9).fillColor(INK);
      const name = this.fit(finding.subject.displayName || finding.subject.id, WIDTH - 24 - tagW - 110);
      doc.text(name, textX, y + 2.5, { lineBreak: false });
      const nameW = doc.widthOfString(name);
      if (finding.subject.userPrincipalName) {
        this.font('regular', 7.5).fillColor(MUTED);
        doc.text(this.fit(finding.subject.userPrincipalName, WIDTH - 24 - tagW - nameW - 14), textX + nameW + 6, y + 3.8, { lineBreak: false });
      }
      this.font('regular', 7).fillColor(MUTED).text(this.fit(`${SEVERITY_WORD[finding.severity]} · ${checkTitle}`, tagW), RIGHT - tagW, y + 4, { width: tagW, align: 'right', lineBreak: false });
      this.font('cond', 8.6).fillColor(INK).text(this.fit(finding.detail, WIDTH - 24), textX, y + 13.5, { lineBreak: false });
      this.y = y + rowH;
      shown++;
    }
    if (total > shown) {
      this.font('regular', 7.5).fillColor(MUTED);
      doc.text(`…and ${total - shown} more. Ask Vigil in Teams, or run "vigil audit --format csv", for the full list.`, LEFT + 24, this.y, { width: WIDTH - 24, lineBreak: false });
      this.y += 12;
    }
    this.y += 10;
  }

  private gapLines(): Array<{ head: string; body: string }> {
    return gapsOf(this.audit).map((g) => {
      const titles = g.checkTitles.filter((t) => !g.what.toLowerCase().startsWith(t.toLowerCase()));
      const where = titles.length ? `${titles.join(', ')}: ` : '';
      const missing = [g.permission, g.licence].filter((v): v is string => Boolean(v) && !g.reason.includes(v as string));
      const need = missing.length ? ` Needs ${missing.join(' and ')}.` : '';
      return { head: `${where}${g.what}. `, body: `${g.reason}${need}` };
    });
  }

  private gapsHeight(): number {
    const lines = this.gapLines();
    // Measured in bold: an upper bound for a bold head followed by regular text.
    this.font('bold', 8);
    const body = lines.reduce((h, l) => h + this.doc.heightOfString(this.clamp(l.head + l.body, WIDTH - 14, 2), { width: WIDTH - 14 }) + 4, 0);
    return 17 + Math.max(14, body);
  }

  // What could not be seen, and what would let Vigil see it.
  private gaps(): void {
    const { doc } = this;
    const gaps = this.gapLines();
    if (!this.ensure(17 + 14)) return;
    this.sectionTitle('What Vigil could not check');
    if (!gaps.length) {
      this.font('regular', 8.5).fillColor(MUTED).text('Nothing: Vigil could read everything it needed.', LEFT, this.y, { width: WIDTH });
      this.y = doc.y + 8;
      return;
    }
    let shown = 0;
    for (const { head, body: full } of gaps) {
      this.font('bold', 8);
      const clamped = this.clamp(head + full, WIDTH - 14, 2);
      const body = clamped.startsWith(head) ? clamped.slice(head.length) : full;
      const h = doc.heightOfString(clamped, { width: WIDTH - 14 }) + 4;
      if (!this.ensure(h)) break;
      doc.circle(LEFT + 3, this.y + 4.5, 1.8).fill(RATING_COLOR.unknown);
      this.font('bold', 8).fillColor(INK).text(head, LEFT + 12, this.y, { width: WIDTH - 14, continued: true });
      this.font('regular', 8).fillColor(INK).text(body, { width: WIDTH - 14 });
      this.y += h;
      shown++;
    }
    if (gaps.length > shown) {
      this.font('regular', 7.5).fillColor(MUTED).text(`…and ${gaps.length - shown} more (see "vigil audit --format json").`, LEFT + 12, this.y, { lineBreak: false });
      this.y += 12;
    }
  }

  private footers(): void {
    const { doc } = this;
    const range = doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      doc.switchToPage(i);
      doc.moveTo(LEFT, FOOTER_TOP).lineTo(RIGHT, FOOTER_TOP).lineWidth(0.5).strokeColor(HAIRLINE).stroke();
      let x = LEFT;
      for (const r of ['red', 'amber', 'green', 'info', 'unknown'] as Rating[]) {
        doc.circle(x + 3, FOOTER_TOP + 12, 2.6).fill(RATING_COLOR[r]);
        this.font('regular', 7).fillColor(MUTED);
        const label = RATING_LABEL[r].toLowerCase();
        doc.text(label, x + 9, FOOTER_TOP + 8.5, { lineBreak: false });
        x += 9 + doc.widthOfString(label) + 12;
      }
      const stamp = `Generated ${this.audit.generatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC · page ${i - range.start + 1} of ${range.count}`;
      doc.text(stamp, RIGHT - 220, FOOTER_TOP + 8.5, { width: 220, align: 'right', lineBreak: false });
    }
  }

  // --- helpers ---------------------------------------------------------------------------------------

  private sectionTitle(title: string): void {
    this.ensure(18);
    this.font('bold', 10.5).fillColor(NAVY).text(title.toUpperCase(), LEFT, this.y, { lineBreak: false, characterSpacing: 0.6 });
    this.y += 16;
  }

  /** Room for `h` more points: on this page, or a second one. False when even that is full. */
  private ensure(h: number): boolean {
    if (this.y + h <= BOTTOM) return true;
    if (this.page >= Layout.MAX_PAGES) return false;
    this.doc.addPage({ size: 'A4', margin: 0 });
    this.page++;
    this.font('bold', 9).fillColor(MUTED).text(`${this.audit.tenant.name}: security report (continued)`, LEFT, M - 8, { lineBreak: false });
    this.y = M + 14;
    return this.y + h <= BOTTOM;
  }

  private font(name: FontName, size: number): Doc {
    return this.doc.font(name).fontSize(size);
  }

  /** One line that fits `width` in the current font, cut with an ellipsis. */
  private fit(text: string, width: number): string {
    const flat = text.replace(/\s+/g, ' ').trim();
    if (this.doc.widthOfString(flat) <= width) return flat;
    let lo = 0;
    let hi = flat.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.doc.widthOfString(`${flat.slice(0, mid)}…`) <= width) lo = mid;
      else hi = mid - 1;
    }
    return `${flat.slice(0, lo).trimEnd()}…`;
  }

  /** At most `lines` wrapped lines at `width` in the current font, cut with an ellipsis. */
  private clamp(text: string, width: number, lines: number): string {
    const flat = text.replace(/\s+/g, ' ').trim();
    const lineHeight = this.doc.currentLineHeight(true);
    const fits = (s: string) => this.doc.heightOfString(s, { width }) <= lineHeight * lines + 0.5;
    if (fits(flat)) return flat;
    let lo = 0;
    let hi = flat.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fits(`${flat.slice(0, mid)}…`)) lo = mid;
      else hi = mid - 1;
    }
    return `${flat.slice(0, lo).trimEnd()}…`;
  }
}

// --- small pure helpers ----------------------------------------------------------------------------

/** A row's one line: what the check found, or for a check that could not run, why not. */
function rowText(result: AuditedCheck['result']): string {
  if (result.status === 'unknown' && result.gaps[0]) return `Could not check. ${result.gaps[0].reason}`;
  return result.reason;
}

export function trendOf(score: SecureScoreView): { delta: number; days: number } | undefined {
  if (score.history.length < 2) return undefined;
  const last = score.history[score.history.length - 1];
  const lastT = Date.parse(last.date);
  // The point closest to 30 days before the latest one (or the oldest we have).
  const target = lastT - 30 * 86_400_000;
  let base = score.history[0];
  for (const p of score.history) if (Math.abs(Date.parse(p.date) - target) < Math.abs(Date.parse(base.date) - target)) base = p;
  const days = Math.max(1, Math.round((lastT - Date.parse(base.date)) / 86_400_000));
  return { delta: round1(score.current - base.score), days };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function longDate(d: Date): string {
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

function shortDate(d: Date): string {
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
}
