import { type ChildProcess, spawn } from 'node:child_process';

/** `npm start` as a user runs it: bin/local.ts in its own process, with its own data folder. */
export interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
  adminKey: string;
}

export interface Launcher {
  run: (env?: Record<string, string>) => {
    child: ChildProcess;
    output: () => string;
    exited: Promise<number | null>;
  };
  start: (env?: Record<string, string>) => Promise<Started>;
  stop: (started: Started) => Promise<number | null>;
  /** Kills whatever is still running (afterAll). */
  killAll: () => void;
}

/** Starts `bin/local.ts` over `dataDir` on a free port, as `npm start` does. */
export function npmStartLauncher(dataDir: string): Launcher {
  const children: ChildProcess[] = [];
  const run = (env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, ['bin/local.ts'], {
      env: { ...process.env, LOYALTY_DATA_DIR: dataDir, PORT: '0', LOYALTY_BOOTSTRAP_ADMIN_KEY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, output: () => output, exited };
  };
  const start = async (env: Record<string, string> = {}): Promise<Started> => {
    const { child, output } = run(env);
    const deadline = Date.now() + 45_000;
    while (!/Try it:/.test(output())) {
      if (child.exitCode !== null) throw new Error(`npm start exited: ${output()}`);
      if (Date.now() > deadline) throw new Error(`npm start did not come up: ${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = /listening on (http:\/\/localhost:\d+)/.exec(output())?.[1] as string;
    const adminKey = /Admin key\s+(\S+)/.exec(output())?.[1] as string;
    return { child, output, url, adminKey };
  };
  const stop = (started: Started) => {
    const exited = new Promise<number | null>((resolve) =>
      started.child.once('exit', (code) => resolve(code)),
    );
    started.child.kill('SIGTERM');
    return exited;
  };
  const killAll = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  return { run, start, stop, killAll };
}
