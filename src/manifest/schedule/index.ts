export { ScheduleSpecError, compileSchedule, type CompiledSchedule } from './compile.js';
export { firingsAfter, nextAfter, nextFirings, recentFirings, type NextFiringsOptions } from './next.js';
export {
  formatFiring,
  previewFirings,
  zoneAbbreviation,
  type PreviewOptions,
  type PreviewedFiring,
} from './preview.js';
export { dstWarnings, type DstWarningOptions } from './dst.js';
