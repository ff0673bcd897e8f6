import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliError } from './exit.js';

/** The bundled CI workflow, read from the installed package so `init` and examples/ci never drift apart. */
const WORKFLOW = new URL('../../examples/ci/.github/workflows/taskops-plan.yml', import.meta.url);

const CONFIG = `# Engine settings: they belong to whoever runs the engine, not to the manifests (taskops serve --config).
defaultTimezone: UTC
drivers:
  # A command driver runs an argv template without a shell; each \${NAME} is one argument.
  hello:
    type: command
    actions:
      say: [echo, 'hello, \${NAME}, from \${TASK}']
# The only secrets manifests may reference ({env: NAME} / {file: PATH}); add names and globs as you need them.
secrets:
  env: []
  files: []
`;

const TASK = `apiVersion: taskops/v1
kind: Task
metadata:
  name: say-hello
  description: A starter task; replace it with yours
spec:
  objectType: hello
  action: say
  target: { name: world }
  schedules: [every-morning]
`;

const SCHEDULE = `apiVersion: taskops/v1
kind: Schedule
metadata:
  name: every-morning
spec:
  timezone: UTC
  repeat: { unit: days, at: '09:00' }
`;

export async function initAction(dir: string): Promise<void> {
  const files: Array<[string, string]> = [
    ['taskops.config.yaml', CONFIG],
    [path.join('manifests', 'task.yaml'), TASK],
    [path.join('manifests', 'schedule.yaml'), SCHEDULE],
    [path.join('.github', 'workflows', 'taskops-plan.yml'), readFileSync(WORKFLOW, 'utf8')],
  ];
  const existing = files.map(([f]) => path.join(dir, f)).filter((f) => existsSync(f));
  if (existing.length > 0) {
    throw new CliError(
      `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}: nothing was written; ` +
        'run taskops init in an empty folder, or give it another DIR',
    );
  }
  for (const [file, text] of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  const lines = [
    ...files.map(([f]) => `created ${path.join(dir, f)}`),
    '',
    'Next:',
    `  cd ${dir}`,
    '  taskops --config taskops.config.yaml validate manifests',
    '  taskops --config taskops.config.yaml reconcile manifests --dry-run',
    '  taskops --config taskops.config.yaml serve manifests',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
