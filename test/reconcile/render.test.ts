import { describe, expect, it } from 'vitest';
import {
  diff,
  GITHUB_COMMENT_LIMIT,
  renderJson,
  renderMarkdown,
  renderText,
  type Plan,
  withRefusal,
  type PlanPalette,
} from '../../src/reconcile/index.js';
import { desired, live, tag, task, webhook } from './fixtures.js';

function samplePlan(): Plan {
  const before = [
    task('report', { params: { payload: 'line1\nline2\nline3\n' } }),
    webhook('old', { url: undefined, urlFrom: { env: 'OLD_URL' } }),
    tag('gpu'),
  ];
  const after = [
    task('report', { params: { payload: 'line1\nline2 changed\nline3\n' } }),
    webhook('slack', {
      url: undefined,
      urlFrom: { env: 'SLACK_URL' },
      auth: { type: 'bearer', tokenFrom: { env: 'SLACK_TOKEN' } },
    }),
    tag('gpu', ['a', 'b']),
  ];
  return diff(desired('abc123', ...after), live(before));
}

describe('text plan', () => {
  it('reads like Terraform: + create, ~ update with field lines, - delete, and the summary line last', () => {
    const text = renderText(samplePlan());
    expect(text).toContain('  ~ Tag/gpu\n      + spec.members[1]: "b"\n');
    expect(text).toContain('  + Webhook/slack\n');
    expect(text).toContain('  - Webhook/old\n');
    expect(text.trimEnd().split('\n').pop()).toBe('Plan: 1 to create, 2 to update, 1 to delete.');
  });

  it('shows a changed multi-line string as a unified diff without raw hunk headers', () => {
    const text = renderText(samplePlan());
    expect(text).toContain(
      '      ~ spec.params.payload:\n           line1\n          -line2\n          +line2 changed\n           line3\n',
    );
    expect(text).not.toContain('@@');
  });

  it('diffs lists member by member: one added and one removed member, not both whole lists', () => {
    const plan = diff(desired('r', tag('gpu', ['a', 'c', 'd'])), live([tag('gpu', ['a', 'b', 'c'])]));
    expect(plan.changes[0]!.fieldChanges).toEqual([
      { path: 'spec.members[1]', before: 'b', after: undefined },
      { path: 'spec.members[2]', before: undefined, after: 'd' },
    ]);
    expect(renderText(plan)).toContain(
      '  ~ Tag/gpu\n      - spec.members[1]: "b"\n      + spec.members[2]: "d"\n\n',
    );
  });

  it('shows a create as the manifest says it, with the schema defaults folded into one line', () => {
    const text = renderText(
      diff(
        desired(
          'r',
          task('nightly', { schedules: [], deleteAfterRun: false, timeoutSeconds: 300, params: {} }),
        ),
        [],
      ),
    );
    expect(text).toContain(
      [
        '  + Task/nightly',
        '      + spec.action: "power-on"',
        '      + spec.objectType: "vms"',
        '        defaults: concurrency "forbid", deleteAfterRun false, enabled true, params {}, schedules [], timeoutSeconds 300',
      ].join('\n'),
    );
    expect(text).not.toContain('+ spec.schedules');
  });

  it('shows a changed secret reference as references, never a value', () => {
    const auth = (env: string) => ({ type: 'bearer' as const, tokenFrom: { env } });
    const plan = diff(
      desired('r', webhook('w', { auth: auth('TOKEN_B') })),
      live([webhook('w', { auth: auth('TOKEN_A') })]),
    );
    expect(renderText(plan)).toContain('      ~ spec.auth.tokenFrom: env:TOKEN_A → env:TOKEN_B\n');
  });

  it('shows control characters from a manifest escaped, never raw to the terminal', () => {
    const plan = diff(desired('r', task('a', { params: { body: 'one\n\u001b[31mtwo\n' } })), []);
    const text = renderText(plan);
    expect(text).not.toContain('\u001b');
    expect(text).toContain('+\\u001b[31mtwo');
  });

  it('ends with "No changes. Live state matches <revision>." when there is nothing to do', () => {
    const ms = [task('a')];
    expect(renderText(diff(desired('abc123', ...ms), live(ms)))).toBe(
      'No changes. Live state matches abc123.\n',
    );
  });

  it('mentions unmanaged and retired objects in notes', () => {
    const objects = [...live([task('once')]), ...live([task('handmade')], 'api')];
    objects[0] = { ...objects[0]!, retiredAt: '2026-01-01T00:00:00.000Z' };
    const text = renderText(diff(desired('r', task('once')), objects));
    expect(text).toContain('Task/handmade: unmanaged, kept');
    expect(text).toContain('Task/once: retired after its run (deleteAfterRun)');
  });

  it('marks drift and says what apply did after an apply', () => {
    const text = renderText(samplePlan(), { applied: true });
    expect(text.trimEnd().split('\n').pop()).toBe('Applied: 1 created, 2 updated, 1 deleted.');
  });

  it('colours only through the palette it is given', () => {
    const tagged: PlanPalette = {
      red: (s) => `<r>${s}</r>`,
      green: (s) => `<g>${s}</g>`,
      yellow: (s) => `<y>${s}</y>`,
      cyan: (s) => `<c>${s}</c>`,
      bold: (s) => `<b>${s}</b>`,
      dim: (s) => s,
    };
    const text = renderText(samplePlan(), { palette: tagged });
    expect(text).toContain('<g>+</g> <b>Webhook/slack</b>');
    expect(text).not.toContain('\u001b[');
  });
});

describe('json plan', () => {
  it('has the contract shape: revision, changes with action/kind/name/before/after, summary', () => {
    const doc = JSON.parse(renderJson(samplePlan()));
    expect(Object.keys(doc).slice(0, 3)).toEqual(['revision', 'changes', 'summary']);
    expect(doc.revision).toBe('abc123');
    expect(doc.summary).toEqual({ create: 1, update: 2, delete: 1 });
    expect(doc.changes[0]).toMatchObject({ action: 'update', kind: 'Tag', name: 'gpu' });
    expect(Object.keys(doc.changes[0]).slice(0, 5)).toEqual(['action', 'kind', 'name', 'before', 'after']);
    expect(doc.changes.find((c: { action: string }) => c.action === 'create').before).toBeNull();
    expect(doc.changes.find((c: { action: string }) => c.action === 'delete').after).toBeNull();
  });
});

describe('every renderer', () => {
  const formats = {
    text: (p: Plan) => renderText(p),
    json: (p: Plan) => renderJson(p),
    markdown: (p: Plan) => renderMarkdown(p),
  };

  for (const [format, render] of Object.entries(formats)) {
    it(`${format}: shows secret references as references and never a literal secret`, () => {
      const plan = samplePlan();
      const hook = plan.changes.find((c) => c.name === 'slack')!;
      // A literal that slipped past validation must still never be printed.
      (hook.after!.spec as Record<string, unknown>).signingSecret = 'hunter2-literal';
      hook.fieldChanges.push({ path: 'spec.signingSecret', before: undefined, after: 'hunter2-literal' });
      const out = render(plan);
      expect(out).toContain('env:SLACK_TOKEN');
      expect(out).toContain('env:SLACK_URL');
      expect(out).not.toContain('hunter2-literal');
      expect(out).not.toMatch(/"env":\s*"SLACK_TOKEN"/);
    });

    it(`${format}: prints byte-identical output for the same plan, run after run`, () => {
      expect(render(samplePlan())).toBe(render(samplePlan()));
    });
  }
});

describe('markdown plan', () => {
  it('is a summary table followed by one collapsible diff per object', () => {
    const md = renderMarkdown(samplePlan());
    expect(md).toContain('| Create | 1 |\n| Update | 2 |\n| Delete | 1 |');
    expect(md.match(/<details>/g)).toHaveLength(4);
    expect(md).toContain(
      '<summary><code>~ Tag/gpu</code> update</summary>\n\n```diff\n+ spec.members[1]: "b"\n```',
    );
    expect(md.trimEnd().split('\n').pop()).toBe('Plan: 1 to create, 2 to update, 1 to delete.');
  });

  it("stays under GitHub's 65,536-character comment limit for a huge plan, folding the rest with a note", () => {
    const many = Array.from({ length: 3000 }, (_, i) =>
      task(`task-${String(i).padStart(4, '0')}`, {
        params: { payload: 'x'.repeat(200) + '\n' + 'y'.repeat(200) },
      }),
    );
    const md = renderMarkdown(diff(desired('big', ...many), []));
    expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    expect(md).toMatch(
      /\d+ more objects not shown\*\* to stay under GitHub's 65,536-character comment limit/,
    );
    expect(md.trimEnd().split('\n').pop()).toBe('Plan: 3000 to create, 0 to update, 0 to delete.');
  });

  it('cuts one enormous object diff instead of letting it crowd out the others', () => {
    const md = renderMarkdown(
      diff(desired('big', task('huge', { params: { payload: 'z\n'.repeat(100_000) } }), task('small')), []),
    );
    expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    expect(md).toContain('diff cut at');
    expect(md).toContain('Task/small');
  });

  it('uses a fence longer than any backticks inside the content', () => {
    const md = renderMarkdown(diff(desired('r', task('a', { params: { body: 'see ```code``` here' } })), []));
    expect(md).toContain('````diff\n');
  });
});

describe('refusals and warnings are part of the plan', () => {
  const refusedPlan = () => {
    const state = desired('head1', task('keep'));
    state.warnings = ['schedules.yaml:3:9: Schedule/lonely: unused: no Task lists it in spec.schedules'];
    return withRefusal(diff(state, live([task('a'), task('b')])));
  };

  it('JSON carries refused {reason, message} and warnings', () => {
    const doc = JSON.parse(renderJson(refusedPlan()));
    expect(doc.refused).toEqual({
      reason: 'delete-all',
      message: expect.stringContaining('it would delete every live object taskops manages (2 of 2)'),
    });
    expect(doc.warnings).toEqual([
      {
        object: null,
        message: 'schedules.yaml:3:9: Schedule/lonely: unused: no Task lists it in spec.schedules',
      },
    ]);
    expect(JSON.parse(renderJson(diff(desired('r', task('a')), []))).refused).toBeNull();
  });

  it('markdown shows a refusal banner and the warnings above the table', () => {
    const md = renderMarkdown(refusedPlan());
    expect(md).toContain(
      '> [!CAUTION]\n> **Applying this plan would be refused** (delete-all): refusing to apply head1',
    );
    expect(md).toContain('> [!WARNING]\n> - schedules.yaml:3:9: Schedule/lonely: unused');
    expect(md.indexOf('[!CAUTION]')).toBeLessThan(md.indexOf('| Action | Objects |'));
  });

  it('text shows them before the summary line, which stays last', () => {
    const text = renderText(refusedPlan());
    expect(text).toContain('Applying this plan would be refused:\n  refusing to apply head1');
    expect(text).toContain('Warnings:\n  schedules.yaml:3:9: Schedule/lonely');
    expect(text.trimEnd().split('\n').pop()).toBe('Plan: 1 to create, 0 to update, 2 to delete.');
  });
});
