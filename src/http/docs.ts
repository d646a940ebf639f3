import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Router } from 'express';

const require = createRequire(import.meta.url);
/** swagger-ui-dist's files, served from node_modules: the docs page needs no CDN. */
const SWAGGER_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

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
const init = (basePath: string) => `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(`${basePath}/api/openapi.json`)},
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
  persistAuthorization: true
});
`;

/** /api/docs: the interactive page over /api/openapi.json, published under `basePath`. */
export function docsRouter(basePath: string): Router {
  const router = express.Router();
  const PAGE = page(basePath);
  const INIT = init(basePath);
  router.get('/', (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/init.js', (_req, res) => {
    res.type('application/javascript').send(INIT);
  });
  router.use('/assets', express.static(SWAGGER_DIR, { index: false, fallthrough: true, maxAge: '1d' }));
  return router;
}
