// npm runs `prepare` on every install of a checkout, also `npm ci --omit=dev` where no compiler is
// installed: build when TypeScript is at hand (a development checkout), otherwise keep the shipped dist/.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
try {
  require.resolve('typescript/bin/tsc');
} catch {
  console.log(
    'taskops: TypeScript is not installed (an install without dev dependencies): using the built dist/',
  );
  process.exit(0);
}
const built = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(built.status ?? 1);
