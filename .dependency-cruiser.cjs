/**
 * The layer rules of src/ (docs/architecture.md explains them). `npm run lint:deps` checks them,
 * and `npm test` runs it first, so a forbidden import fails the build.
 *
 * Dependencies point one way: transports (http, realtime) -> domain <- adapters (store, cluster,
 * adapters, face). src/shared is the vocabulary every layer, and the browser pages, may use.
 */

/** Libraries that talk to the outside world; only adapters and transports may import them. */
const INFRASTRUCTURE_PACKAGES = [
  'express',
  'socket\\.io',
  '@socket\\.io/.+',
  'ioredis',
  'mongoose',
  'better-sqlite3',
  'sharp',
  'piscina',
  'rate-limiter-flexible',
  'multer',
  'nodemailer',
  'pino',
  'pino-http',
  'prom-client',
  'jsonwebtoken',
  'bcryptjs',
  '@tensorflow/.+',
  '@vladmandic/.+',
];
const infrastructure = `(^|/)node_modules/(${INFRASTRUCTURE_PACKAGES.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules form no cycle: a cycle welds layers together and makes load order matter.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'shared-is-a-leaf',
      severity: 'error',
      comment: 'src/shared is the vocabulary of every layer and of the browser pages: it imports nothing of the app.',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'shared-no-infrastructure',
      severity: 'error',
      comment: 'src/shared is bundled into the browser pages: no server library.',
      from: { path: '^src/shared/' },
      to: { path: infrastructure },
    },
    {
      name: 'domain-imports-only-domain-and-shared',
      severity: 'error',
      comment:
        'The domain owns its entities and ports (ports/*.ts, rate-limiter.ts, face/face-engine.ts); ' +
        'the store, Redis, face engine and transports implement or call them, never the other way round.',
      from: { path: '^src/domain/' },
      to: {
        path: '^src/',
        pathNot: [
          '^src/(domain|shared)/',
          // Exception: the typed configuration (and its face section) is read by the services as
          // types only; the rule below keeps it to types.
          '^src/config\\.ts$',
          '^src/face/face-config\\.ts$',
          // Exception: the Logger type (pino's); type only, see below.
          '^src/logger\\.ts$',
        ],
      },
    },
    {
      name: 'config-and-logger-as-types-only',
      severity: 'error',
      comment: 'The excepted config and logger modules may be imported by the domain and the store as types only.',
      from: { path: '^src/(domain|store)/' },
      to: { path: '^src/(config|logger|face/face-config)\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'domain-no-infrastructure',
      severity: 'error',
      comment: 'The domain uses no infrastructure library; their implementations live in src/adapters, src/cluster, src/store.',
      from: { path: '^src/domain/' },
      to: { path: infrastructure },
    },
    {
      name: 'http-not-realtime',
      severity: 'error',
      comment: 'The two transports are independent: each calls the domain, neither calls the other.',
      from: { path: '^src/http/' },
      to: { path: '^src/realtime/' },
    },
    {
      name: 'realtime-not-http',
      severity: 'error',
      comment: 'The two transports are independent: each calls the domain, neither calls the other.',
      from: { path: '^src/realtime/' },
      to: { path: '^src/http/' },
    },
    {
      name: 'adapters-not-transports',
      severity: 'error',
      comment: 'Adapters (store, Redis, face engine, mail, passwords, tokens) implement domain ports; they know no transport.',
      from: { path: '^src/(adapters|cluster|store|face)/' },
      to: { path: '^src/(http|realtime)/' },
    },
    {
      name: 'store-only-store-domain-shared',
      severity: 'error',
      comment: 'A store implements the domain ports with its driver and nothing else of the app.',
      from: { path: '^src/store/' },
      to: {
        path: '^src/',
        // Exception: the Config type, to pick the store and its settings (types only, see below).
        pathNot: ['^src/(store|domain|shared)/', '^src/config\\.ts$'],
      },
    },
    {
      name: 'web-imports-only-shared',
      severity: 'error',
      comment: 'Browser pages are bundled for the browser: they share only src/shared with the server.',
      from: { path: '^src/web/' },
      to: { path: '^src/', pathNot: '^src/(web|shared)/' },
    },
    {
      name: 'src-not-tests-or-scripts',
      severity: 'error',
      comment: 'Production code never imports tests or scripts.',
      from: { path: '^src/' },
      to: { path: '^(test|scripts)/' },
    },
  ],
  options: {
    includeOnly: ['^src/', 'node_modules/'],
    // Record which imports are type-only, so the type-only exceptions above can be checked.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
