import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchRedisUrl, deleteByPrefix, openRawRedis, redisVersion } from './lib/redis';
import { checkTargets, renderSuite, type SuiteReport } from './lib/report';
import type { SuiteModule } from './lib/suite';
import { FULL_TIMING, QUICK_TIMING } from './lib/timing';

/**
 * `npm run bench [-- --suite=a,b] [-- --quick]`: runs the suites of `bench/suites/`, prints a
 * markdown table per suite and records it in `bench/results/` (`latest.md` for full runs,
 * merged per suite; `quick.md` for quick ones).
 */

interface Args {
  suites: string[] | undefined;
  quick: boolean;
}

interface StoredResults {
  machine: string;
  suites: Record<string, SuiteReport>;
}

const SOURCE_DIR = resolve(__dirname, '../../bench');
const RESULTS_DIR = join(SOURCE_DIR, 'results');

function parseArgs(argv: string[]): Args {
  const args: Args = { suites: undefined, quick: false };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg.startsWith('--suite=')) args.suites = arg.slice(8).split(',').filter(Boolean);
    else throw new Error(`unknown argument ${arg}; expected --suite=<name>[,<name>] or --quick`);
  }
  return args;
}

/** The compiled suites whose source still exists (a deleted suite leaves stale JS behind). */
async function loadSuites(): Promise<SuiteModule[]> {
  const dir = join(__dirname, 'suites');
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.js'))
    .filter((file) => existsSync(join(SOURCE_DIR, 'suites', file.replace(/\.js$/, '.ts'))))
    .sort();
  const modules = await Promise.all(files.map((file) => import(join(dir, file))));
  return (modules as SuiteModule[]).filter(
    (suite) => typeof suite.run === 'function' && typeof suite.name === 'string',
  );
}

function selectSuites(all: SuiteModule[], wanted: string[] | undefined): SuiteModule[] {
  if (wanted === undefined) return all;
  const unknown = wanted.filter((name) => !all.some((suite) => suite.name === name));
  if (unknown.length > 0) {
    const known = all.map((suite) => suite.name).join(', ');
    throw new Error(`unknown suite ${unknown.join(', ')}; the suites are: ${known}`);
  }
  return all.filter((suite) => wanted.includes(suite.name));
}

/** The commit measured, marked when the working tree has changes on top of it. */
function gitCommit(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return git('rev-parse', '--short', 'HEAD') + (dirty ? ' with local changes' : '');
  } catch {
    return 'unknown';
  }
}

async function describeMachine(redisUrl: string): Promise<string> {
  const client = await openRawRedis(redisUrl);
  const redis = await redisVersion(client).finally(() => client.close());
  const cpu = cpus();
  return (
    `${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ` +
    `Redis ${redis} at ${redisUrl.replace(/\/\/[^@]*@/, '//***@')}`
  );
}

async function runSuite(suite: SuiteModule, args: Args, redisUrl: string): Promise<SuiteReport> {
  const prefix = `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const started = performance.now();
  const log = (message: string) => process.stderr.write(`[${suite.name}] ${message}\n`);
  const report: SuiteReport = {
    commit: gitCommit(),
    name: suite.name,
    title: suite.title,
    description: suite.description,
    rows: [],
    seconds: 0,
  };

  log('starting');
  try {
    const timing = args.quick ? QUICK_TIMING : FULL_TIMING;
    report.rows = await suite.run({ quick: args.quick, timing, redisUrl, prefix, log });
  } catch (error) {
    report.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`failed: ${report.error}`);
  } finally {
    const client = await openRawRedis(redisUrl);
    await deleteByPrefix(client, prefix).finally(() => client.close());
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

function render(machine: string, reports: SuiteReport[], quick: boolean): string {
  const checks = reports.flatMap((report) => checkTargets(report.rows));
  const met = checks.filter((check) => check.met).length;
  const failed = reports.filter((report) => report.error !== undefined).length;
  return [
    `# Benchmark results${quick ? ' (quick run: figures are not meaningful)' : ''}`,
    '',
    `Machine: ${machine}.`,
    '',
    `Targets met: ${met} of ${checks.length}` +
      (failed > 0 ? `; ${failed} suite(s) failed to run.` : '.'),
    '',
    'Result: median of the timed rounds. Spread: half the interquartile range of the rounds. ' +
      'Ours ÷ this: the subject under test (bold) divided by the row, as the median of ' +
      'per-round ratios (the subjects of a scenario run their rounds interleaved).',
    '',
    ...reports.map(renderSuite),
  ].join('\n');
}

/** Full runs update `latest.json` suite by suite, so one suite can be re-run alone. */
function record(machine: string, reports: SuiteReport[], quick: boolean): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  if (quick) {
    const text = render(machine, reports, true);
    writeFileSync(join(RESULTS_DIR, 'quick.md'), text);
    return text;
  }

  const jsonPath = join(RESULTS_DIR, 'latest.json');
  const stored: StoredResults = existsSync(jsonPath)
    ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as StoredResults)
    : { machine, suites: {} };
  const ranAt = new Date().toISOString();
  for (const report of reports) stored.suites[report.name] = { ...report, ranAt };
  stored.machine = machine;
  writeFileSync(jsonPath, JSON.stringify(stored, null, 2) + '\n');

  const all = Object.values(stored.suites).sort((a, b) => a.name.localeCompare(b.name));
  writeFileSync(join(RESULTS_DIR, 'latest.md'), render(machine, all, false));
  return render(machine, reports, false);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const suites = selectSuites(await loadSuites(), args.suites);
  const redisUrl = benchRedisUrl();
  const machine = await describeMachine(redisUrl);

  const reports: SuiteReport[] = [];
  for (const suite of suites) reports.push(await runSuite(suite, args, redisUrl));

  process.stdout.write(record(machine, reports, args.quick) + '\n');
  if (reports.some((report) => report.error !== undefined)) process.exitCode = 1;

  // A suite that leaves a connection open would keep `npm run bench` from ending: say so
  // and end anyway (the timer does not itself keep the process alive).
  setTimeout(() => {
    process.stderr.write('a suite left handles open (a connection not closed); exiting\n');
    process.exit();
  }, 10_000).unref();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
