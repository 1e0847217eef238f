/** A clock the tests move by hand, so TTL behaviour is tested without sleeping. */
export class ManualClock {
  constructor(private time = 1_700_000_000_000) {}

  readonly now = (): number => this.time;

  advance(ms: number): void {
    this.time += ms;
  }
}
