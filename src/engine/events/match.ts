// Event matching is pure and shared with the reconciler's plans (match counts): it lives in src/manifest/events.
export * from '../../manifest/events/match.js';
