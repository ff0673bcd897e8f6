// Builds the Tasks Dashboard (src/dashboard) into dist/dashboard: two bundles, the pages and the styles.
// Everything it loads is in these files: operators' machines are often offline, so nothing from a CDN.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src/dashboard');
const out = path.join(root, 'dist/dashboard');

rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'assets'), { recursive: true });
await build({
  entryPoints: { app: path.join(src, 'main.ts'), login: path.join(src, 'login.ts') },
  outdir: path.join(out, 'assets'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
});
for (const page of ['index.html', 'login.html']) copyFileSync(path.join(src, page), path.join(out, page));
copyFileSync(path.join(src, 'style.css'), path.join(out, 'assets/style.css'));
