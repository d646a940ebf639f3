/**
 * Builds the browser pages into dist/public: one esbuild bundle per page entry (the
 * socket.io client and qrcode included, nothing loaded from a CDN) plus the static HTML/CSS,
 * the pages' shared markup filled in from src/web/partials (scripts/lib/html-partials.ts).
 * Run: node --import tsx scripts/build-web.ts
 */
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { expandPartials } from './lib/html-partials.js';
import { repoRoot } from './lib/repo-root.js';
import type { Language } from '../src/shared/i18n/languages.js';

/** Page entries under src/web/; each becomes dist/public/<name>.js. */
export const PAGE_ENTRIES = ['classroom', 'teacher', 'student', 'reset', 'admin', 'reports'] as const;

/** Page catalogs other than the bundled English one; each becomes dist/public/locale-<lang>.js, fetched only by its readers. */
export const LOCALE_ENTRIES = ['fr'] as const satisfies readonly Exclude<Language, 'en'>[];

/**
 * Page families' own catalogs beside the shared one (src/web/locales/<part>-<lang>.ts), in the
 * same languages: each becomes dist/public/locale-<part>-<lang>.js, fetched with
 * locale-<lang>.js only by the pages that add that catalog (docs/languages.md).
 */
export const CATALOG_PARTS = ['pages', 'student', 'staff', 'teacher', 'classroom', 'reports', 'admin'] as const;

/** The student page's files its service worker keeps for an offline reload (src/web/student-sw.ts). */
export const STUDENT_SHELL = ['student.html', 'student.js', 'styles.css', 'favicon.svg'] as const;

/** Browsers this build's scripts run in. */
const TARGET = ['chrome110', 'firefox110', 'safari16'];

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
    entryPoints: {
      ...Object.fromEntries(PAGE_ENTRIES.map((name) => [name, path.join(root, 'src', 'web', `${name}.ts`)])),
      ...Object.fromEntries(LOCALE_ENTRIES.map((lang) => [`locale-${lang}`, path.join(root, 'src', 'web', 'locales', `${lang}.ts`)])),
      ...Object.fromEntries(
        CATALOG_PARTS.flatMap((part) =>
          LOCALE_ENTRIES.map((lang) => [`locale-${part}-${lang}`, path.join(root, 'src', 'web', 'locales', `${part}-${lang}.ts`)]),
        ),
      ),
    },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: TARGET,
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
  await buildShellWorker(root, outDir, opts.minify ?? true);
  await precompress(outDir);
  return outDir;
}

/**
 * dist/public/student-sw.js with the digest of the files it keeps written in: a build that
 * changes any of them changes the worker's bytes, which is how a browser learns of a deploy
 * (it compares the script), installs the new worker and drops the old copies.
 */
async function buildShellWorker(root: string, outDir: string, minify: boolean): Promise<void> {
  const optional = (await readdir(outDir)).filter((n) => /^locale-[a-z-]+\.js$/.test(n)).sort();
  const digest = createHash('sha256');
  for (const name of [...STUDENT_SHELL, ...optional]) digest.update(name).update(await readFile(path.join(outDir, name)));
  await build({
    entryPoints: { 'student-sw': path.join(root, 'src', 'web', 'student-sw.ts') },
    outdir: outDir,
    bundle: true,
    // A classic script: module workers are not in every browser this build targets.
    format: 'iife',
    platform: 'browser',
    target: TARGET,
    minify,
    logLevel: 'warning',
    define: {
      SHELL_VERSION: JSON.stringify(digest.digest('hex').slice(0, 16)),
      SHELL_FILES: JSON.stringify(STUDENT_SHELL),
      SHELL_OPTIONAL: JSON.stringify(optional),
    },
  });
}

/** What a browser loads as text; source maps are left out (only developer tools fetch them). */
export const COMPRESSIBLE = ['.html', '.js', '.css', '.svg', '.webmanifest'];

/**
 * Writes NAME.br and NAME.gz beside each page file, served to browsers that accept them
 * (src/http/static-pages.ts): on a slow phone link the page's bytes are most of the wait.
 */
async function precompress(outDir: string): Promise<void> {
  for (const name of await readdir(outDir)) {
    if (!COMPRESSIBLE.includes(path.extname(name))) continue;
    const file = path.join(outDir, name);
    const body = await readFile(file);
    await writeFile(`${file}.gz`, gzipSync(body, { level: 9 }));
    await writeFile(
      `${file}.br`,
      brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = await buildWeb();
  process.stdout.write(`web pages built into ${path.relative(process.cwd(), out) || '.'}\n`);
}
