// The API reference page at /docs: Swagger UI from its npm package (swagger-ui-dist), served from this process,
// reading /openapi.json. Nothing is fetched from anywhere else (its validator badge, which would call out, is off).
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type RequestHandler } from 'express';

const require = createRequire(import.meta.url);
const swaggerUiDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** Swagger UI's own files, under /docs/assets/. */
export const docsAssets: RequestHandler = express.static(swaggerUiDir, { index: false, maxAge: '1h' });

export const docsPage = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Reservation engine API reference</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <style>body { margin: 0 } .topbar { display: none }</style>
</head>
<body>
  <div id="reference"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: '/openapi.json',
      dom_id: '#reference',
      deepLinking: true,
      validatorUrl: null,
      docExpansion: 'list',
      defaultModelsExpandDepth: 0,
    });
  </script>
</body>
</html>
`;
