/**
 * Builds the browser pages into dist/public: one esbuild bundle per page entry (the
 * socket.io client and qrcode included, nothing loaded from a CDN) plus the static HTML/CSS,
 * the pages' shared markup filled in from src/web/partials (scripts/lib/html-partials.ts).
 * Run: node --import tsx scripts/build-web.ts
 */
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { expandPartials } from './lib/html-partials.js';
import { repoRoot } from './lib/repo-root.js';

/** Page entries under src/web/; each becomes dist/public/<name>.js. */
export const PAGE_ENTRIES = ['classroom', 'teacher', 'student', 'reset', 'admin', 'reports'] as const;

export interface BuildWebOptions {
  /** Repository root; defaults to the one above this script. */
  root?: string;
  /** Output folder; defaults to <root>/dist/public. */
  outDir?: string;
  minify?: boolean;
}

/** Bundles the page scripts and copies src/web/public with its partials filled in; returns the output folder. */
export async function buildWeb(opts: BuildWebOptions = {}): Promise<string> {
  const root = opts.root ?? repoRoot(import.meta.url);
  const outDir = opts.outDir ?? path.join(root, 'dist', 'public');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: Object.fromEntries(PAGE_ENTRIES.map((name) => [name, path.join(root, 'src', 'web', `${name}.ts`)])),
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: opts.minify ?? true,
    sourcemap: true,
    logLevel: 'warning',
    // The shared protocol files are plain TypeScript; nothing from Node may leak into a page.
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  await cp(path.join(root, 'src', 'web', 'public'), outDir, { recursive: true });
  const partials = path.join(root, 'src', 'web', 'partials');
  for (const name of (await readdir(outDir)).filter((n) => n.endsWith('.html'))) {
    const file = path.join(outDir, name);
    await writeFile(file, await expandPartials(await readFile(file, 'utf8'), partials, name));
  }
  return outDir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = await buildWeb();
  process.stdout.write(`web pages built into ${path.relative(process.cwd(), out) || '.'}\n`);
}
