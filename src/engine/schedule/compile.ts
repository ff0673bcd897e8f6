// Schedules' firings are pure calendar math, shared with the reconciler's plans: they live in src/manifest/schedule.
export * from '../../manifest/schedule/compile.js';
