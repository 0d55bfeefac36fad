/**
 * The benchmark runs each measured party in its own process (the Graph simulator, Vigil's scan,
 * the baseline script, the chat bot), so that peak RSS and CPU are each one's own. This is the
 * small request/response protocol they speak over Node's IPC channel, in both directions.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

type Handler = (arg: unknown) => unknown;

interface Req {
  kind: 'req';
  id: number;
  cmd: string;
  arg?: unknown;
}
interface Res {
  kind: 'res';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

type Port = Pick<ChildProcess, 'send' | 'on' | 'off'> | NodeJS.Process;

export class Peer {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly handlers = new Map<string, Handler>();

  constructor(private readonly port: Port) {
    (port as NodeJS.EventEmitter).on('message', (m: Req | Res) => this.onMessage(m));
  }

  handle(cmd: string, fn: Handler): this {
    this.handlers.set(cmd, fn);
    return this;
  }

  call<T = unknown>(cmd: string, arg?: unknown): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.send!({ kind: 'req', id, cmd, arg } satisfies Req);
    });
  }

  /** Reject every pending call (the other side went away). */
  fail(reason: string): void {
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }

  private onMessage(m: Req | Res): void {
    if (!m || typeof m !== 'object') return;
    if (m.kind === 'res') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
      return;
    }
    if (m.kind !== 'req') return;
    const fn = this.handlers.get(m.cmd);
    const reply = (r: Omit<Res, 'kind' | 'id'>): void => {
      this.port.send!({ kind: 'res', id: m.id, ...r } satisfies Res);
    };
    if (!fn) {
      reply({ ok: false, error: `no handler for ${m.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => fn(m.arg))
      .then(
        (result) => reply({ ok: true, result }),
        (err: unknown) => reply({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  }
}

export interface Child {
  proc: ChildProcess;
  peer: Peer;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Start `bench/<name>.ts` in a child process (same TypeScript loader as this process). */
export function startChild(name: string, extraExecArgv: string[] = []): Child {
  const file = path.join(__dirname, `${name}.ts`);
  const proc = fork(file, [], { execArgv: [...process.execArgv, ...extraExecArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const peer = new Peer(proc);
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code) => {
      peer.fail(`${name} exited with code ${code}`);
      resolve(code);
    });
  });
  return {
    proc,
    peer,
    exited,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      // A normal exit first (CPU profiles are written then), a signal if it does not come.
      peer.call('exit').catch(() => undefined);
      const timer = setTimeout(() => proc.kill('SIGTERM'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** In a child: the peer for talking to the parent. */
export function parentPeer(): Peer {
  if (!process.send) throw new Error('this module runs as a child process of bench/index.ts');
  const peer = new Peer(process);
  peer.handle('exit', () => {
    setImmediate(() => process.exit(0));
    return true;
  });
  // Never outlive the benchmark.
  process.on('disconnect', () => process.exit(0));
  return peer;
}
