export { renderText, type TextRenderOptions } from './text.js';
export { renderJson } from './json.js';
export {
  renderMarkdown,
  GITHUB_COMMENT_LIMIT,
  PLAN_COMMENT_MARKER,
  type MarkdownOptions,
  type ReviewContext,
} from './markdown.js';
export { maskSecrets, SecretReference, HIDDEN } from './mask.js';
export { PLAIN_PALETTE, type PlanPalette } from './palette.js';
export { summaryLine, noChangesLine } from './values.js';
