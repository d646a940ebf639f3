import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Response, type Router } from 'express';
import { contentSecurityPolicy } from './static-pages.js';

const require = createRequire(import.meta.url);
/** swagger-ui-dist's files, served from node_modules: the docs page needs no CDN. */
const SWAGGER_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/**
 * The only files of swagger-ui-dist the page loads. The rest of the package is not ours to publish
 * from this origin: its package.json names the version, its own index.html and oauth2-redirect.html
 * are pages without our security headers, beside the pages that hold a login in localStorage.
 */
const ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js'] as const;

/**
 * The pages' policy (static-pages.ts) but for styles: swagger-ui adds a `<style>` element of its
 * own at run time, refused without 'unsafe-inline'. Scripts stay this origin's files only, and no
 * site may frame the page: it sends requests with the bearer token its reader pasted.
 */
export const DOCS_CSP = contentSecurityPolicy({ 'style-src': "'self' 'unsafe-inline'" });

/** The page; its addresses start with `basePath` (config.basePath), as /api/docs answers with or without a trailing slash. */
const page = (basePath: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Classroom attendance API</title>
<link rel="icon" href="${basePath}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${basePath}/api/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${basePath}/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="${basePath}/api/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="${basePath}/api/docs/init.js"></script>
</body>
</html>
`;

// A separate file rather than an inline script, so a strict Content-Security-Policy holds.
// No validator: its badge is an image from validator.swagger.io whose address carries this
// deployment's, sent by every reader's browser.
const init = (basePath: string) => `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(`${basePath}/api/openapi.json`)},
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
  validatorUrl: null,
  persistAuthorization: true
});
`;

function docsHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', DOCS_CSP);
  res.setHeader('Referrer-Policy', 'same-origin');
}

/** /api/docs: the interactive page over /api/openapi.json, published under `basePath`. */
export function docsRouter(basePath: string): Router {
  const router = express.Router();
  const PAGE = page(basePath);
  const INIT = init(basePath);
  router.get('/', (_req, res) => {
    docsHeaders(res);
    res.type('html').send(PAGE);
  });
  router.get('/init.js', (_req, res) => {
    docsHeaders(res);
    res.type('application/javascript').send(INIT);
  });
  const files = new Set(ASSETS.map((name) => `/${name}`));
  const assets = express.static(SWAGGER_DIR, { index: false, fallthrough: true, maxAge: '1d', setHeaders: docsHeaders });
  router.use('/assets', (req, res, next) => (files.has(req.path) ? assets(req, res, next) : next()));
  return router;
}
