import { describe, expect, it } from 'vitest';
import { formatProblem, loadManifests } from '../../src/manifest/index.js';

const DIR = 'test/fixtures/invalid';

/** Each invalid fixture and the exact errors `taskops validate` must report for it. */
const CORPUS: Array<[fixture: string, errors: string[]]> = [
  [
    '01-malformed-yaml.yaml',
    [
      'test/fixtures/invalid/01-malformed-yaml.yaml:6:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }',
    ],
  ],
  [
    '02-empty-file.yaml',
    [
      'test/fixtures/invalid/02-empty-file.yaml:1:1: no manifests in this file (it is empty or only comments); delete it or add a document',
    ],
  ],
  [
    '03-not-a-mapping.yaml',
    [
      'test/fixtures/invalid/03-not-a-mapping.yaml:1:1: a manifest must be a mapping with apiVersion, kind, metadata and spec (got a list)',
    ],
  ],
  [
    '04-unknown-kind.yaml',
    [
      'test/fixtures/invalid/04-unknown-kind.yaml:2:7: unknown kind "Job"; expected one of Task, Schedule, EventTrigger, Webhook, Tag',
    ],
  ],
  [
    '05-wrong-api-version.yaml',
    [
      'test/fixtures/invalid/05-wrong-api-version.yaml:1:13: Tag/gpu: apiVersion must be taskops/v1 (got string "taskops/v2")',
    ],
  ],
  [
    '06-missing-spec-field.yaml',
    ['test/fixtures/invalid/06-missing-spec-field.yaml:6:3: Task/no-action: spec.action is required'],
  ],
  [
    '07-unknown-field.yaml',
    [
      'test/fixtures/invalid/07-unknown-field.yaml:7:3: Webhook/hook: unknown field spec.timeout (allowed: url, urlFrom, auth, headers, allowInsecureCertificates, caFrom, timeoutSeconds, retries, retrySchedule, signingSecretFrom)',
    ],
  ],
  [
    '08-wrong-type.yaml',
    [
      'test/fixtures/invalid/08-wrong-type.yaml:7:12: Webhook/hook: spec.retries must be an integer (got string "three")',
    ],
  ],
  [
    '09-bad-name.yaml',
    [
      'test/fixtures/invalid/09-bad-name.yaml:4:9: Tag/-gpu vms: metadata.name must be 1-63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit (got string "-gpu vms")',
    ],
  ],
  [
    '10-webhook-timeout-too-low.yaml',
    [
      'test/fixtures/invalid/10-webhook-timeout-too-low.yaml:7:19: Webhook/hook: spec.timeoutSeconds must be at least 3 (got 2)',
    ],
  ],
  [
    '11-schedule-none-of.yaml',
    [
      'test/fixtures/invalid/11-schedule-none-of.yaml:6:3: Schedule/whenever: spec needs exactly one of cron, repeat or once',
    ],
  ],
  [
    '12-schedule-two-of.yaml',
    [
      'test/fixtures/invalid/12-schedule-two-of.yaml:6:3: Schedule/both: spec has cron and once; exactly one of cron, repeat or once is allowed',
    ],
  ],
  [
    '13-bad-weekday.yaml',
    [
      'test/fixtures/invalid/13-bad-weekday.yaml:6:30: Schedule/fridays: spec.repeat.on[0] must be a weekday (monday ... sunday), a day of the month 1-31, or last (got string "fryday")',
    ],
  ],
  [
    '14-bad-date-time.yaml',
    [
      'test/fixtures/invalid/14-bad-date-time.yaml:6:9: Schedule/xmas: spec.once must be an ISO 8601 date-time like 2026-12-24T17:00:00 (local) or 2026-12-24T17:00:00-05:00 (got string "24/12/2026 17:00")',
    ],
  ],
  [
    '15-auth-without-secret.yaml',
    [
      'test/fixtures/invalid/15-auth-without-secret.yaml:8:5: Webhook/slack: spec.auth.tokenFrom is required when auth.type is bearer',
    ],
  ],
  [
    '16-bad-cron.yaml',
    [
      'test/fixtures/invalid/16-bad-cron.yaml:6:9: Schedule/bad-cron: cron minute field "61" is out of range 0-59',
    ],
  ],
  [
    '17-unknown-timezone.yaml',
    [
      'test/fixtures/invalid/17-unknown-timezone.yaml:6:13: Schedule/mars: unknown time zone "Mars/Olympus_Mons"; use an IANA name like Europe/Berlin or America/New_York',
    ],
  ],
  [
    '18-unreal-date.yaml',
    [
      'test/fixtures/invalid/18-unreal-date.yaml:6:9: Schedule/feb30: once: "2026-02-30T10:00:00" is not a real date',
    ],
  ],
  [
    '19-payload-not-json.yaml',
    [
      "test/fixtures/invalid/19-payload-not-json.yaml:17:40: Task/notify: payload is not valid JSON: expected ',' or '}' in an object",
    ],
  ],
  [
    '20-unknown-variable.yaml',
    [
      'test/fixtures/invalid/20-unknown-variable.yaml:10:14: Task/mail: unknown variable ${HOSTNAME}; known: DATE, TIMESTAMP, RANDOM, NAME, TASK, EVENT_TYPE, EVENT, RUN_ID, FIELD_<key>',
    ],
  ],
  [
    '21-missing-schedule.yaml',
    ['test/fixtures/invalid/21-missing-schedule.yaml:9:15: Task/weekly: Schedule/friday-6pm does not exist'],
  ],
  [
    '22-missing-task.yaml',
    [
      'test/fixtures/invalid/22-missing-task.yaml:7:11: EventTrigger/on-login: Task/power-on-gpu does not exist',
    ],
  ],
  [
    '23-tag-category-mismatch.yaml',
    [
      'test/fixtures/invalid/23-tag-category-mismatch.yaml:15:17: Task/power-on: Tag/admins groups users, but this task acts on vms',
    ],
  ],
  [
    '24-literal-token.yaml',
    [
      'test/fixtures/invalid/24-literal-token.yaml:9:12: Webhook/slack: spec.auth.token is a secret written as literal text; secrets never stand in a manifest: use tokenFrom: {env: NAME} or {file: PATH}',
    ],
  ],
  [
    '25-literal-password-header.yaml',
    [
      'test/fixtures/invalid/25-literal-password-header.yaml:8:20: Webhook/zapier: header Authorization carries a credential as literal text; use spec.auth (bearer, apiKey or basic) with a {env|file} reference',
    ],
  ],
  [
    '26-missing-webhook.yaml',
    ['test/fixtures/invalid/26-missing-webhook.yaml:7:18: Task/notify: Webhook/slak does not exist'],
  ],
  [
    '27-missing-tag.yaml',
    ['test/fixtures/invalid/27-missing-tag.yaml:7:17: Task/power-off: Tag/JThompson-GPU does not exist'],
  ],
  [
    '28-tab-indentation.yaml',
    ['test/fixtures/invalid/28-tab-indentation.yaml:4:1: invalid YAML: Tabs are not allowed as indentation'],
  ],
  [
    '29-deep-nesting.yaml',
    ['test/fixtures/invalid/29-deep-nesting.yaml:8:76: nesting deeper than 32 levels: refused'],
  ],
  [
    '30-endsat-before-startsat.yaml',
    [
      'test/fixtures/invalid/30-endsat-before-startsat.yaml:8:11: Schedule/backwards: endsAt must be later than startsAt',
    ],
  ],
  [
    '31-url-with-password.yaml',
    [
      'test/fixtures/invalid/31-url-with-password.yaml:6:8: Webhook/legacy: spec.url contains a password; use auth.type basic with passwordFrom, or urlFrom: {env: NAME}',
    ],
  ],
  [
    '32-unterminated-variable.yaml',
    [
      'test/fixtures/invalid/32-unterminated-variable.yaml:10:14: Task/mail2: unterminated ${: expected ${VARIABLE} (write $${ for a literal ${)',
    ],
  ],
  [
    '33-duplicate-key.yaml',
    ['test/fixtures/invalid/33-duplicate-key.yaml:7:3: invalid YAML: Map keys must be unique'],
  ],
  [
    '34-alias-bomb.yaml',
    [
      'test/fixtures/invalid/34-alias-bomb.yaml:17:36: YAML aliases expand too much (more than 100 expansions): refused as a resource-exhaustion risk',
    ],
  ],
  [
    '35-duplicate-payload-key.yaml',
    [
      'test/fixtures/invalid/35-duplicate-payload-key.yaml:21:9: Task/notify: payload has the key "severity" twice in one object; receivers keep only one of them: remove one',
    ],
  ],
  [
    'dup',
    [
      'test/fixtures/invalid/dup/b.yaml:4:9: Tag/gpu: duplicate: Tag/gpu is also defined at test/fixtures/invalid/dup/a.yaml:1:1; names are unique per kind',
    ],
  ],
];

describe('the invalid-manifest corpus', () => {
  it('has at least 25 fixtures', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(25);
  });

  it.each(CORPUS)('%s is refused with its exact file:line:col and message', async (fixture, expected) => {
    const result = await loadManifests([`${DIR}/${fixture}`], { revision: 'test' });
    expect(result.state).toBeNull();
    expect(result.problems.map(formatProblem)).toEqual(expected);
  });
});
