// Development entry of the bcrypt worker, used when the app runs from TypeScript under tsx.
// Node 20 ignores `--import` preloads in worker threads even though they inherit execArgv,
// so the TypeScript loader is registered here, inside the thread, before loading the worker.
// Production runs the compiled dist/workers/bcrypt-worker.js directly.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./bcrypt-worker.ts');
export default worker.default;
