import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A message a worker printed. */
export interface WorkerMessage {
  event: string;
  [field: string]: any;
}

/** A running `cache-worker` process and the messages it printed. */
export class WorkerProcess {
  readonly #child: ChildProcess;
  readonly #messages: WorkerMessage[] = [];
  readonly #waiters: { event: string; resolve: (message: WorkerMessage) => void }[] = [];

  private constructor(config: object) {
    this.#child = spawn(process.execPath, [join(__dirname, 'cache-worker.js')], {
      env: { ...process.env, WORKER_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => this.#receive(line));
  }

  /** Starts a worker and waits until its cache module is up. */
  static async start(config: object): Promise<WorkerProcess> {
    const worker = new WorkerProcess(config);
    await worker.next('ready');
    return worker;
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  send(command: object): void {
    this.#child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** The first message of `event` not yet taken (waiting for it if needed). */
  next(event: string): Promise<WorkerMessage> {
    const index = this.#messages.findIndex((m) => m.event === event || m.event === 'failed');
    if (index >= 0) return Promise.resolve(this.#checked(this.#messages.splice(index, 1)[0]));
    return new Promise((resolve) => this.#waiters.push({ event, resolve })).then((message) =>
      this.#checked(message as WorkerMessage),
    );
  }

  /** Ends the worker at once, as a crash would. */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGKILL');
    await once(this.#child, 'exit');
  }

  /** Asks the worker to close its module and exit; kills it if it does not within 5 s. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = once(this.#child, 'exit');
    this.send({ cmd: 'exit' });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  #receive(line: string): void {
    let message: WorkerMessage;
    try {
      message = JSON.parse(line);
    } catch {
      return; // Not one of ours (a library printing to stdout).
    }
    const waiter = this.#waiters.findIndex(
      (w) => w.event === message.event || message.event === 'failed',
    );
    if (waiter < 0) this.#messages.push(message);
    else this.#waiters.splice(waiter, 1)[0].resolve(message);
  }

  #checked(message: WorkerMessage): WorkerMessage {
    if (message.event === 'failed') throw new Error(`worker failed: ${message.error}`);
    return message;
  }
}
