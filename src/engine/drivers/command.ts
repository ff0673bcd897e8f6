import { spawn } from 'node:child_process';
import type { DriverConfig } from '../../manifest/types.js';
import { expandArgv } from './argv.js';
import { OutputBuffer } from './output-buffer.js';
import type { Driver, DriverDeps, DriverRequest, DriverResult } from './types.js';
import { abortReason, unknownAction } from './types.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024;
export const DEFAULT_KILL_GRACE_MS = 5000;

export interface CommandDetails {
  argv: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs an action's argv template with child_process.spawn and no shell: each template argument
 * becomes exactly one argument, so an object name like `x; rm -rf /` or `$(reboot)` stays literal text;
 * a substituted value that could pass for an option or holds control characters is refused (argv.ts).
 */
export function createCommandDriver(objectType: string, config: DriverConfig, deps: DriverDeps = {}): Driver {
  // The schema requires actions for command drivers.
  const templates = config.actions ?? {};
  const actions = Object.keys(templates);
  const maxOutput = config.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const graceMs = deps.killGraceMs ?? DEFAULT_KILL_GRACE_MS;

  async function run(req: DriverRequest): Promise<DriverResult> {
    const template = templates[req.task.spec.action];
    if (!template) return unknownAction(objectType, req.task.spec.action, actions);
    const expanded = expandArgv(template, req.vars);
    if (!expanded.ok) {
      return {
        ok: false,
        attempts: 0,
        error: `${objectType} ${req.task.spec.action}: ${expanded.error}; refused, the program was not started`,
      };
    }
    const argv = expanded.argv;
    const [command, ...args] = argv as [string, ...string[]];
    if (!command) {
      return {
        ok: false,
        attempts: 0,
        error: `${objectType} ${req.task.spec.action}: the program name is empty`,
      };
    }
    if (req.signal.aborted)
      return { ok: false, attempts: 0, error: `${command} not started: ${abortReason(req.signal)}` };

    const stdout = new OutputBuffer(maxOutput);
    const stderr = new OutputBuffer(maxOutput);
    const child = spawn(command, args, {
      shell: false,
      cwd: config.workingDirectory,
      env: deps.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a stop reaches the children a script starts, too.
      detached: process.platform !== 'win32',
    });
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    let killTimer: NodeJS.Timeout | undefined;
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Already gone: nothing left to stop.
      }
    };
    const stop = () => {
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), graceMs);
    };
    req.signal.addEventListener('abort', stop, { once: true });

    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | Error>(
      (resolve) => {
        child.once('error', resolve);
        child.once('close', (code, signal) => resolve({ code, signal }));
      },
    );
    req.signal.removeEventListener('abort', stop);
    clearTimeout(killTimer);

    if (ended instanceof Error) {
      const code = (ended as NodeJS.ErrnoException).code ?? ended.message;
      // spawn says ENOENT both for a program missing from PATH and for a missing working directory.
      const hint = code === 'ENOENT' ? ': not found on PATH, or the workingDirectory does not exist' : '';
      return { ok: false, attempts: 1, error: `cannot start ${command} (${code})${hint}`, details: { argv } };
    }
    const details: CommandDetails = {
      argv,
      exitCode: ended.code,
      signal: ended.signal,
      stdout: stdout.text(),
      stderr: stderr.text(),
    };
    if (req.signal.aborted) {
      return { ok: false, attempts: 1, error: `${command} stopped: ${abortReason(req.signal)}`, details };
    }
    if (ended.code === 0) return { ok: true, attempts: 1, details };
    const why = ended.code !== null ? `exited with code ${ended.code}` : `was killed by ${ended.signal}`;
    const hint = firstLine(details.stderr);
    return { ok: false, attempts: 1, error: `${command} ${why}${hint ? `: ${hint}` : ''}`, details };
  }

  return { objectType, actions: () => [...actions], run };
}

function firstLine(text: string): string {
  const line = text.trim().split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
