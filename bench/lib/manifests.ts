/**
 * A synthetic but realistic manifest repository: every kind, block and flow style, comments,
 * descriptions, labels, templates, and references that all resolve (across files, too).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Object types the generated tasks act on, with their actions: pass as the load's driverCatalog. */
export const BENCH_DRIVER_CATALOG = {
  webhook: ['send'],
  email: ['send'],
  vms: ['power-on', 'power-off', 'snapshot'],
  users: ['disable', 'enable'],
};

const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Sydney'];
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];
const hh = (n: number) => String(n).padStart(2, '0');

function tag(u: number): string {
  const members = Array.from({ length: 3 + (u % 6) }, (_, i) => `vm-${u}-${i}`);
  return `apiVersion: taskops/v1
kind: Tag
metadata:
  name: team-${u}-vms
  description: Build and render machines of team ${u}
  labels: { owner: team-${u}, cost-center: cc-${u % 40} }
spec:
  category: vms
  members: [${members.join(', ')}]
`;
}

function schedule(u: number): string {
  const zone = ZONES[u % ZONES.length]!;
  const rule =
    u % 3 === 0
      ? `  cron: '${u % 60} ${8 + (u % 10)} * * 1-5'`
      : u % 3 === 1
        ? `  repeat: { every: 1, unit: weeks, on: [${WEEKDAYS[u % 5]}], at: '${hh(7 + (u % 12))}:${hh(u % 60)}' }`
        : `  repeat:\n    unit: months\n    on: [1, 15, last]\n    at: '06:30'\n  startsAt: '2026-01-01T00:00:00'`;
  return `apiVersion: taskops/v1
kind: Schedule
metadata:
  name: team-${u}-window
  description: Maintenance window of team ${u}
spec:
  timezone: ${zone}
${rule}
`;
}

function webhook(u: number): string {
  const secret =
    u % 2 === 0
      ? `  urlFrom: { env: TEAM_${u}_WEBHOOK_URL }`
      : `  url: https://hooks.example.com/services/team-${u}\n  auth:\n    type: bearer\n    tokenFrom: { env: TEAM_${u}_TOKEN }`;
  return `apiVersion: taskops/v1
kind: Webhook
metadata:
  name: team-${u}-chat
spec:
${secret}
  headers: { content-type: application/json }
  timeoutSeconds: 10
  retries: 3
`;
}

function tasks(u: number): string[] {
  return [
    `apiVersion: taskops/v1
kind: Task
metadata:
  name: team-${u}-power-off
  description: Power off team ${u}'s machines in the maintenance window
spec:
  objectType: vms
  target: { tag: team-${u}-vms }
  action: power-off
  schedules: [team-${u}-window]
  timeoutSeconds: 120
`,
    `apiVersion: taskops/v1
kind: Task
metadata:
  name: team-${u}-power-on
spec:
  objectType: vms
  target:
    tag: team-${u}-vms
  action: power-on
  concurrency: replace
`,
    `apiVersion: taskops/v1
kind: Task
metadata:
  name: team-${u}-notify
  description: 'Tell team ${u} on chat'
spec:
  objectType: webhook
  target: { name: team-${u}-chat }
  action: send
  params:
    payload: '{"text": "\${NAME} failed at \${DATE} (run \${RUN_ID})"}'
`,
    `apiVersion: taskops/v1
kind: Task
metadata:
  name: team-${u}-mail
spec:
  objectType: email
  action: send
  params:
    to: [oncall-${u}@example.com, lead-${u}@example.com]
    subject: 'Alert for team ${u}: \${NAME}'
    body: |
      \${NAME} reported a problem at \${DATE}.
      Check the task logs (run \${RUN_ID}) and the dashboard.
`,
  ];
}

function triggers(u: number): string[] {
  return [
    `apiVersion: taskops/v1
kind: EventTrigger
metadata:
  name: team-${u}-login
spec:
  event: { type: users, name: login, object: user-${u} }
  tasks: [team-${u}-power-on]
`,
    `apiVersion: taskops/v1
kind: EventTrigger
metadata:
  name: team-${u}-vm-alarm
spec:
  event:
    type: vms
    name: alarm
    tag: team-${u}-vms
    where: { severity: critical }
  tasks: [team-${u}-notify, team-${u}-mail]
`,
    `apiVersion: taskops/v1
kind: EventTrigger
metadata:
  name: team-${u}-task-failed
spec:
  event: { type: tasks, name: failed, object: team-${u}-power-off }
  tasks: [team-${u}-notify]
  enabled: ${u % 7 !== 0}
`,
  ];
}

/** One unit: 10 documents of every kind (1 Tag, 1 Schedule, 1 Webhook, 4 Tasks, 3 EventTriggers). */
const unit = (u: number): string[] => [tag(u), schedule(u), webhook(u), ...tasks(u), ...triggers(u)];

/** File sizes in documents cycle through this pattern (average 10): repos mix small and large files. */
const FILE_SIZES = [5, 15, 8, 12, 10];

/**
 * Writes `documents` manifests into `files` files below `dir` (in 10 team folders), multi-document files
 * joined by `---`. Returns the file paths written.
 */
export function writeManifestRepo(dir: string, documents: number, files: number): string[] {
  const stream: string[] = [];
  for (let u = 0; stream.length < documents; u++) stream.push(...unit(u));
  stream.length = documents;
  const written: string[] = [];
  let next = 0;
  for (let f = 0; f < files; f++) {
    const size = f === files - 1 ? documents - next : FILE_SIZES[f % FILE_SIZES.length]!;
    const folder = path.join(dir, `team-${f % 10}`);
    mkdirSync(folder, { recursive: true });
    const file = path.join(folder, `manifests-${String(f).padStart(4, '0')}.yaml`);
    const header = `# yaml-language-server: $schema=../schemas/taskops.schema.json\n# file ${f}: generated for the validate benchmark\n`;
    writeFileSync(file, header + stream.slice(next, next + size).join('---\n'));
    written.push(file);
    next += size;
  }
  if (next !== documents) throw new Error(`wrote ${next} documents, expected ${documents}`);
  return written;
}
