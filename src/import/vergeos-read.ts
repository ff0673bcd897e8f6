import { VergeosClient } from '../engine/drivers/vergeos-client.js';
import { anyOf } from '../engine/drivers/vergeos-filter.js';
import type { Row, VergeosSnapshot } from './vergeos.js';

/** Owner tables whose rows have a name worth writing into a manifest. */
const NAMED_TABLES = new Set([
  'vms',
  'users',
  'vnets',
  'tenants',
  'nodes',
  'clusters',
  'sites',
  'groups',
  'webhook_urls',
]);

/** Reads a VergeOS system's task engine (tasks, schedules, their triggers, task events, webhook URLs). */
export async function readVergeosSnapshot(client: VergeosClient): Promise<VergeosSnapshot> {
  const [tasks, schedules, scheduleTriggers, taskEvents, webhookUrls] = [
    await client.list('tasks', { fields: 'most' }),
    await client.list('task_schedules', { fields: 'most' }),
    await client.list('task_schedule_triggers', { fields: 'most' }),
    await client.list('task_events', { fields: 'most' }),
    await client.list('webhook_urls', { fields: 'most' }),
  ];
  return {
    tasks,
    schedules,
    scheduleTriggers,
    taskEvents,
    webhookUrls,
    names: await ownerNames(client, [...tasks, ...taskEvents]),
  };
}

/** `"vms/42"` → the VM's name, one filtered GET per table. */
async function ownerNames(client: VergeosClient, rows: Row[]): Promise<Record<string, string>> {
  const byTable = new Map<string, Set<string>>();
  for (const row of rows) {
    const owner = typeof row.owner === 'string' ? row.owner : '';
    const [table, key] = owner.split('/');
    if (!table || !key || !NAMED_TABLES.has(table) || !/^\d+$/.test(key)) continue;
    (byTable.get(table) ?? byTable.set(table, new Set()).get(table)!).add(key);
  }
  const names: Record<string, string> = {};
  for (const [table, keys] of byTable) {
    const found = await client.list(table, {
      filter: anyOf('$key', [...keys].map(Number)),
      fields: '$key,name',
    });
    for (const row of found)
      if (typeof row.name === 'string') names[`${table}/${String(row.$key)}`] = row.name;
  }
  return names;
}
