import type { TemplateVars } from '../../src/manifest/template.js';
import type { TaskSpec, WebhookSpec } from '../../src/manifest/types.js';
import type { DriverRequest } from '../../src/engine/drivers/index.js';

/** A DriverRequest with fixed time and randomness; override what the test is about. */
export function driverRequest(
  spec: TaskSpec,
  over: Partial<Omit<DriverRequest, 'vars'>> & {
    vars?: Partial<TemplateVars>;
    webhookSpec?: WebhookSpec;
  } = {},
): DriverRequest {
  const { vars, webhookSpec, ...rest } = over;
  const target = rest.target === undefined ? 'gpu-ws-01' : rest.target;
  return {
    runId: 'run-1',
    task: { name: 'test-task', spec },
    target,
    signal: new AbortController().signal,
    ...(webhookSpec ? { webhook: { name: 'test-hook', spec: webhookSpec } } : {}),
    ...rest,
    vars: {
      now: new Date('2025-10-16T15:38:07Z'),
      zone: 'America/New_York',
      random: () => 0.5,
      name: target,
      task: 'test-task',
      runId: 'run-1',
      ...vars,
    },
  };
}
