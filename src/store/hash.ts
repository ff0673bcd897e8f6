export { canonicalJson, contentHash } from '../text/content-hash.js';
