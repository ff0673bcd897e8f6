/** A plan that apply refuses to carry out: says which rule, how many objects, and the flag that overrides it. */
export class PlanSafetyError extends Error {
  constructor(
    message: string,
    readonly rule: 'delete-all' | 'mass-delete',
  ) {
    super(message);
    this.name = 'PlanSafetyError';
  }
}
