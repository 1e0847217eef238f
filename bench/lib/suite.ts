import type { ResultRow } from './report';
import type { Timing } from './timing';

/** What the runner hands every suite. */
export interface SuiteContext {
  /** `--quick`: shorter rounds and smaller data sets; figures are not meaningful. */
  quick: boolean;
  /** How long to measure (already shortened under `--quick`). */
  timing: Timing;
  /** Redis URL (`REDIS_URL`, else 127.0.0.1:6379). */
  redisUrl: string;
  /**
   * A prefix unique to this run (`bench-<pid>-<random>`, valid as a module namespace). Start
   * every Redis key a suite or a peer writes with it (a namespace `${prefix}.ours`, a peer
   * prefix `${prefix}.cm`...): the runner deletes `${prefix}*` when the suite ends.
   */
  prefix: string;
  /** A progress line on stderr (stdout carries the tables). */
  log(message: string): void;
}

/** The shape of a module in `bench/suites/`. */
export interface SuiteModule {
  /** Short name for `--suite=<name>`. */
  name: string;
  /** Heading of the suite's table. */
  title: string;
  /** One paragraph: what is measured and why; rendered above the table. */
  description: string;
  /** Runs the suite and returns its rows. Must release every connection it opened. */
  run(context: SuiteContext): Promise<ResultRow[]>;
}
