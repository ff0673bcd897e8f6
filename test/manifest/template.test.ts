import { describe, expect, it } from 'vitest';
import {
  KNOWN_VARIABLES,
  expandPayload,
  expandTemplate,
  findTemplateProblems,
  parsePayloadTemplate,
  type PayloadTemplate,
  type TemplateVars,
} from '../../src/manifest/template.js';

const vars = (over: Partial<TemplateVars> = {}): TemplateVars => ({
  now: new Date('2025-10-16T15:38:07.500Z'),
  zone: 'America/New_York',
  random: () => 0.5,
  name: 'gpu-ws-01',
  task: 'power-off-gpu-vms',
  runId: 'run-42',
  event: { type: 'syncs', name: 'error', fields: { severity: 'error', count: 3, retried: false } },
  ...over,
});

const compiled = (payload: string | object): PayloadTemplate => {
  const parsed = parsePayloadTemplate(payload);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.template;
};

describe('expandTemplate', () => {
  it('formats ${DATE} as an RFC 2822-like date with the zone abbreviation', () => {
    expect(expandTemplate('${DATE}', vars())).toBe('Thu, 16 Oct 2025 11:38:07 EDT');
    expect(expandTemplate('${DATE}', vars({ zone: 'UTC' }))).toBe('Thu, 16 Oct 2025 15:38:07 UTC');
  });

  it('names the zone in ${DATE} as preview does outside the US too (CET, IST), with GMT+5:45 only where none exists', () => {
    expect(expandTemplate('${DATE}', vars({ zone: 'Europe/Berlin' }))).toBe('Thu, 16 Oct 2025 17:38:07 CEST');
    expect(
      expandTemplate('${DATE}', vars({ zone: 'Europe/Paris', now: new Date('2026-01-15T12:00:00Z') })),
    ).toBe('Thu, 15 Jan 2026 13:00:00 CET');
    expect(expandTemplate('${DATE}', vars({ zone: 'Asia/Kolkata' }))).toBe('Thu, 16 Oct 2025 21:08:07 IST');
    expect(expandTemplate('${DATE}', vars({ zone: 'Asia/Kathmandu' }))).toBe(
      'Thu, 16 Oct 2025 21:23:07 GMT+5:45',
    );
  });

  it('falls back to UTC for ${DATE} when the zone is unknown', () => {
    expect(expandTemplate('${DATE}', vars({ zone: 'Mars/Olympus' }))).toBe('Thu, 16 Oct 2025 15:38:07 UTC');
  });

  it('gives ${TIMESTAMP} in whole epoch seconds', () => {
    expect(expandTemplate('${TIMESTAMP}', vars())).toBe('1760629087');
  });

  it('draws a fresh ${RANDOM} integer per occurrence from the injected source', () => {
    const draws = [0, 1 - 2 ** -53];
    const out = expandTemplate('${RANDOM}-${RANDOM}', vars({ random: () => draws.shift() ?? 0 }));
    expect(out).toBe(`0-${2 ** 31 - 1}`);
  });

  it('substitutes name, task, run id, event type, event name and event fields', () => {
    const out = expandTemplate(
      '${NAME}|${TASK}|${RUN_ID}|${EVENT_TYPE}|${EVENT}|${FIELD_severity}|${FIELD_count}|${FIELD_retried}',
      vars(),
    );
    expect(out).toBe('gpu-ws-01|power-off-gpu-vms|run-42|syncs|error|error|3|false');
  });

  it('expands a variable without a value to the empty string', () => {
    const out = expandTemplate(
      '[${NAME}][${EVENT}][${EVENT_TYPE}][${FIELD_missing}]',
      vars({ name: null, event: undefined }),
    );
    expect(out).toBe('[][][][]');
  });

  it('does not read inherited properties as event fields', () => {
    expect(expandTemplate('${FIELD_constructor}${FIELD_toString}', vars())).toBe('');
  });

  it('writes $${X} as a literal ${X} and leaves lone dollars alone', () => {
    expect(expandTemplate('cost $5, $$ and $${NAME} is ${NAME}', vars())).toBe(
      'cost $5, $$ and ${NAME} is gpu-ws-01',
    );
  });

  it('inserts values verbatim, never re-expanding what a value contains', () => {
    expect(expandTemplate('${NAME}', vars({ name: '${TASK} $(reboot)' }))).toBe('${TASK} $(reboot)');
  });
});

describe('findTemplateProblems', () => {
  it('accepts every known variable, field variables and escapes', () => {
    const text = KNOWN_VARIABLES.map((v) => `\${${v}}`).join(' ') + ' ${FIELD_a_B9} $${ANYTHING} $';
    expect(findTemplateProblems(text)).toEqual([]);
  });

  it('reports an unknown variable with its offset and the known list', () => {
    expect(findTemplateProblems('Hello ${FOO} and ${name}')).toEqual([
      {
        offset: 6,
        message:
          'unknown variable ${FOO}; known: DATE, TIMESTAMP, RANDOM, NAME, TASK, EVENT_TYPE, EVENT, RUN_ID, FIELD_<key>',
      },
      {
        offset: 17,
        message:
          'unknown variable ${name}; known: DATE, TIMESTAMP, RANDOM, NAME, TASK, EVENT_TYPE, EVENT, RUN_ID, FIELD_<key>',
      },
    ]);
  });

  it('refuses an empty variable and a field without a key', () => {
    expect(findTemplateProblems('${} ${FIELD_}').map((p) => p.offset)).toEqual([0, 4]);
  });

  it('reports an unterminated ${ at its offset', () => {
    const problems = findTemplateProblems('ok ${NAME} then ${NAME');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.offset).toBe(16);
    expect(problems[0]?.message).toMatch(/^unterminated \$\{/);
  });

  it('reports a ${ followed by something other than a name as unterminated', () => {
    expect(findTemplateProblems('${NAME FOO}')[0]?.message).toMatch(/unterminated/);
  });
});

describe('payload templates', () => {
  const canonical = '{"text": "Sync Error Alert: ${NAME} failed at ${DATE}"}';

  it('expands the canonical Slack payload given as a JSON string', () => {
    expect(expandPayload(compiled(canonical), vars())).toBe(
      '{"text": "Sync Error Alert: gpu-ws-01 failed at Thu, 16 Oct 2025 11:38:07 EDT"}',
    );
  });

  it('expands the same payload given as a YAML mapping', () => {
    const template = compiled({ text: 'Sync Error Alert: ${NAME} failed at ${DATE}' });
    expect(JSON.parse(expandPayload(template, vars()))).toEqual({
      text: 'Sync Error Alert: gpu-ws-01 failed at Thu, 16 Oct 2025 11:38:07 EDT',
    });
  });

  it.each([
    ['a double quote', 'vm "prod"'],
    ['a backslash', 'C:\\vms\\new'],
    ['a newline and a tab', 'line1\nline2\tend'],
    ['a script tag', '</script><script>alert(1)</script>'],
    ['unicode and emoji', 'Jürgen-機械-🚀'],
    ['a lone surrogate', 'bad\uD800half'],
    ['JSON syntax', '","injected":true,"x":"'],
  ])('yields valid JSON when the name holds %s', (_what, name) => {
    const body = expandPayload(compiled(canonical), vars({ name }));
    expect(JSON.parse(body)).toEqual({
      text: `Sync Error Alert: ${name} failed at Thu, 16 Oct 2025 11:38:07 EDT`,
    });
  });

  it('substitutes in nested values but leaves numbers, booleans and null as they are', () => {
    const template = compiled({
      name: { list: ['${TASK}', '${NAME}', 1, true, null], n: 2.5 },
      fixed: { a: [1, 2] },
    });
    expect(JSON.parse(expandPayload(template, vars()))).toEqual({
      name: { list: ['power-off-gpu-vms', 'gpu-ws-01', 1, true, null], n: 2.5 },
      fixed: { a: [1, 2] },
    });
  });

  it('refuses a variable in a key, at the key: a substituted key could repeat another and override it', () => {
    expect(parsePayloadTemplate({ role: 'viewer', nested: { '${FIELD_x}': 'admin' } })).toEqual({
      ok: false,
      message:
        'payload key "${FIELD_x}" uses a variable; variables are allowed in JSON values only, not in keys (write $${ for a literal ${)',
      path: ['nested', '${FIELD_x}'],
      atKey: true,
    });
    expect(parsePayloadTemplate('{"${NAME}": 1}')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^payload key/),
    });
  });

  it('keeps a top-level list payload a list', () => {
    expect(expandPayload(compiled('["${EVENT}", 3]'), vars())).toBe('["error", 3]');
  });

  it('keeps a key named __proto__ as an ordinary key', () => {
    const body = expandPayload(compiled('{"__proto__": {"x": "${NAME}"}}'), vars());
    expect(body).toBe('{"__proto__": {"x": "gpu-ws-01"}}');
  });

  it('sends a JSON text payload as its own bytes: big integers, 1.10, key order, spacing and escapes kept', () => {
    const text =
      '{ "id": 12345678901234567890, "2": "b", "1": "a", "v": 1.10, "e": 1E+2, "s": "caf\\u00e9",\n  "who": "${NAME}" }';
    expect(expandPayload(compiled(text), vars())).toBe(text.replace('${NAME}', 'gpu-ws-01'));
  });

  it('refuses an integer a YAML mapping payload cannot carry exactly, pointing at JSON text instead', () => {
    // What YAML hands over for 12345678901234567890: the nearest double.
    expect(parsePayloadTemplate({ id: Number('12345678901234567890') })).toMatchObject({
      ok: false,
      path: ['id'],
      message: expect.stringMatching(/^payload.id is an integer too large .*write the payload as JSON text/),
    });
    expect(parsePayloadTemplate({ id: 9007199254740991 }).ok).toBe(true);
  });

  it('replaces only the strings that hold variables, escaped', () => {
    const body = expandPayload(
      compiled('{"n": 1.10, "who": "${NAME}", "lit": "$${NAME}"}'),
      vars({ name: 'a "b"\n' }),
    );
    expect(body).toBe('{"n": 1.10, "who": "a \\"b\\"\\n", "lit": "${NAME}"}');
  });

  it('refuses a duplicate key in JSON text at its offset, in any object, but not the same key in two objects', () => {
    const text = '{"a": {"x": 1, "y": 2, "x": 3}}';
    expect(parsePayloadTemplate(text)).toEqual({
      ok: false,
      message: 'payload has the key "x" twice in one object; receivers keep only one of them: remove one',
      offset: text.lastIndexOf('"x"'),
      atKey: true,
    });
    expect(parsePayloadTemplate('{"a": {"x": 1}, "b": {"x": 1}}').ok).toBe(true);
    // Keys that differ only in escapes are the same key to a receiver.
    expect(parsePayloadTemplate('{"x": 1, "\\u0078": 2}')).toMatchObject({ ok: false, atKey: true });
  });

  it('refuses a string payload that is not JSON, with the error offset when known', () => {
    const result = parsePayloadTemplate('{"text": "x",}');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toMatch(/^payload is not valid JSON/);
    expect(parsePayloadTemplate('{"text": "x"')).toMatchObject({ ok: false, offset: 12 });
  });

  it('refuses a variable placed outside a JSON string', () => {
    expect(parsePayloadTemplate('{"count": ${RANDOM}}').ok).toBe(false);
  });

  it('refuses values JSON cannot carry', () => {
    expect(parsePayloadTemplate({ at: new Date(0) })).toMatchObject({ ok: false });
    expect(parsePayloadTemplate({ n: Number.NaN })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/payload.n/),
    });
  });
});

describe('literal ${ in payloads', () => {
  it('undoes the $${ escape in constant strings, keys and nested values too', () => {
    const parsed = parsePayloadTemplate({ a: '$${NAME}', b: ['$${X}', 1], '$${K}': { c: 'plain' } });
    if (!parsed.ok) throw new Error(parsed.message);
    const vars = { now: new Date(0), zone: 'UTC', random: () => 0, name: 'n', task: 't', runId: 'r' };
    expect(JSON.parse(expandPayload(parsed.template, vars))).toEqual({
      a: '${NAME}',
      b: ['${X}', 1],
      '${K}': { c: 'plain' },
    });
  });
});
