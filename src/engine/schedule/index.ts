export { ManualClock, systemClock, type Clock } from './clock.js';
export { ScheduleSpecError, compileSchedule, type CompiledSchedule } from './compile.js';
export { nextFirings, type NextFiringsOptions } from './next.js';
export { formatFiring, previewFirings, type PreviewOptions, type PreviewedFiring } from './preview.js';
export {
  CLOCK_JUMP_REPORT_MS,
  Scheduler,
  WALL_CLOCK_CHECK_MS,
  type ClockJumpEvent,
  type FireEvent,
  type InvalidScheduleEvent,
  type MissedEvent,
  type NamedSchedule,
  type SchedulerOptions,
} from './scheduler.js';
export { LATE_TOLERANCE_MS } from './catchup.js';
