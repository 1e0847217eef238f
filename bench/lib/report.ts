/**
 * Result rows and their markdown rendering. A suite returns rows; the runner renders one
 * table per suite and checks the targets.
 */

/** A bound on a figure: at least and/or at most. */
export interface Bound {
  atLeast?: number;
  atMost?: number;
}

/** One measured figure of one subject in one scenario. */
export interface ResultRow {
  /** What is measured, e.g. `L1 hit, 100k keys, random reads`. */
  scenario: string;
  /** Who is measured, e.g. `ImCacheService.get` or `raw lru-cache get (awaited)`. */
  subject: string;
  /** The figure, in `unit`. */
  value: number;
  /** `ops/s`, `calls/s`, `B/entry`, `ms`... */
  unit: string;
  /** Marks the subject under test of its scenario (the one ratios are computed for). */
  ours?: boolean;
  /**
   * A target on the ratio `ours ÷ this row` (both in the same unit), where "ours" is the row
   * of the same scenario marked `ours`, or the one whose subject is `of`.
   */
  versus?: Bound & { of?: string };
  /** A target on this row's own value, in its unit. */
  target?: Bound;
  /** Half the interquartile range of the rounds relative to the median (0.05 = ±5%). */
  spread?: number;
  /**
   * The figure of each timed round, in the order the rounds ran. When the scenario's ours row
   * has as many, a ratio is the median of the per-round ratios: rounds of different subjects
   * run back to back, so pairing them cancels most of the drift of a shared machine.
   */
  rounds?: number[];
  /** Anything a reader needs to read the figure right. */
  note?: string;
}

/** A check of one target, as rendered and counted. */
export interface CheckOutcome {
  scenario: string;
  subject: string;
  ratio?: number;
  target: string;
  met: boolean;
}

/** A suite's rows with what the runner knows about the suite. */
export interface SuiteReport {
  name: string;
  title: string;
  description: string;
  rows: ResultRow[];
  seconds: number;
  /** When the suite ran (ISO 8601); set by the runner when it records the suite. */
  ranAt?: string;
  /** The commit measured; set by the runner. */
  commit?: string;
  error?: string;
}

/** Formats a figure with a precision fit for its size. */
export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return `${value} ${unit}`;
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
  return `${text} ${unit}`;
}

function formatBound(bound: Bound, suffix: string): string {
  const parts: string[] = [];
  if (bound.atLeast !== undefined) parts.push(`>= ${bound.atLeast}${suffix}`);
  if (bound.atMost !== undefined) parts.push(`<= ${bound.atMost}${suffix}`);
  return parts.join(' and ');
}

function within(value: number, bound: Bound): boolean {
  if (bound.atLeast !== undefined && !(value >= bound.atLeast)) return false;
  if (bound.atMost !== undefined && !(value <= bound.atMost)) return false;
  return true;
}

/** `ours ÷ peer`: the median of per-round ratios when both have matching rounds. */
export function ratioOf(ours: ResultRow, peer: ResultRow): number {
  const a = ours.rounds;
  const b = peer.rounds;
  if (a === undefined || b === undefined || a.length !== b.length || a.length === 0) {
    return ours.value / peer.value;
  }
  const ratios = a.map((value, i) => value / b[i]).sort((x, y) => x - y);
  const mid = ratios.length >> 1;
  return ratios.length % 2 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
}

/** The subject-under-test row a `versus` target of `row` compares with. */
function oursFor(row: ResultRow, rows: readonly ResultRow[]): ResultRow | undefined {
  const peers = rows.filter((other) => other.scenario === row.scenario && other !== row);
  if (row.versus?.of !== undefined) return peers.find((other) => other.subject === row.versus?.of);
  return peers.find((other) => other.ours);
}

/** Checks every target of `rows`. */
export function checkTargets(rows: readonly ResultRow[]): CheckOutcome[] {
  const outcomes: CheckOutcome[] = [];
  for (const row of rows) {
    if (row.versus) {
      const ours = oursFor(row, rows);
      const ratio = ours ? ratioOf(ours, row) : NaN;
      outcomes.push({
        scenario: row.scenario,
        subject: `${ours?.subject ?? '?'} vs ${row.subject}`,
        ratio,
        target: formatBound(row.versus, 'x'),
        met: within(ratio, row.versus),
      });
    }
    if (row.target) {
      outcomes.push({
        scenario: row.scenario,
        subject: row.subject,
        target: formatBound(row.target, ` ${row.unit}`),
        met: within(row.value, row.target),
      });
    }
  }
  return outcomes;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** Renders one suite as a heading, its description and a table. */
export function renderSuite(report: SuiteReport): string {
  const lines = [`### ${report.title} (\`--suite=${report.name}\`)`, '', report.description, ''];
  if (report.error !== undefined) {
    lines.push(`**The suite failed:** ${report.error}`, '');
    return lines.join('\n');
  }

  lines.push(
    '| Scenario | Subject | Result | Spread | Ours ÷ this | Target | Met |',
    '|---|---|--:|--:|--:|---|---|',
  );
  for (const row of report.rows) {
    const ours = row.versus ? oursFor(row, report.rows) : undefined;
    const ratio = ours ? ratioOf(ours, row) : undefined;
    const targets = [
      row.versus ? formatBound(row.versus, 'x') : '',
      row.target ? formatBound(row.target, ` ${row.unit}`) : '',
    ].filter(Boolean);
    const met =
      (row.versus === undefined || (ratio !== undefined && within(ratio, row.versus))) &&
      (row.target === undefined || within(row.value, row.target));
    const metCell = targets.length === 0 ? '' : met ? 'yes' : '**no**';
    lines.push(
      '| ' +
        [
          cell(row.scenario),
          cell(row.ours ? `**${row.subject}**` : row.subject),
          formatValue(row.value, row.unit),
          row.spread === undefined ? '' : `±${(row.spread * 100).toFixed(1)}%`,
          ratio === undefined ? '' : `${ratio.toFixed(2)}x`,
          targets.join(', '),
          metCell,
        ].join(' | ') +
        ' |',
    );
  }
  const notes = report.rows.filter((row) => row.note);
  if (notes.length > 0) {
    lines.push('');
    for (const row of notes) lines.push(`- ${cell(row.subject)}: ${row.note}`);
  }
  const when = report.ranAt === undefined ? '' : `, run at ${report.ranAt}`;
  const where = report.commit === undefined ? '' : ` on commit ${report.commit}`;
  lines.push('', `_Suite time: ${report.seconds.toFixed(0)} s${when}${where}._`, '');
  return lines.join('\n');
}

/** The row of a measured throughput (see `compareThroughput`), rounds included. */
export function throughputRow(
  scenario: string,
  measured: { subject: string; opsPerSec: number; spread: number; rounds: number[] },
  unit: string,
  extra: Partial<ResultRow> = {},
): ResultRow {
  return {
    scenario,
    subject: measured.subject,
    value: measured.opsPerSec,
    unit,
    spread: measured.spread,
    rounds: measured.rounds,
    ...extra,
  };
}
