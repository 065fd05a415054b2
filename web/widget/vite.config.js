// Builds the widget into ONE classic script, web/dist/widget.js (an IIFE:
// it must run from a plain <script src> on any site, with no module loader
// and nothing else to fetch), and copies the demo page next to it as
// web/dist/widget-demo.html.  Other web apps build into the same web/dist,
// so this build never empties it (the root `npm run build` cleans first).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

// The demo page is a static file, not an app: emitted as an asset as is.
// widget.js also gets a widget.js.gz beside it, which `kefu serve` sends to
// browsers that take gzip (every site that embeds the widget loads it).
function demoPageAndGzip() {
  return {
    name: 'kefu-widget-extras',
    generateBundle(_options, bundle) {
      this.emitFile({ type: 'asset', fileName: 'widget-demo.html', source: readFileSync(here('./demo.html'), 'utf8') });
      const js = bundle['widget.js'];
      if (js && js.type === 'chunk')
        this.emitFile({ type: 'asset', fileName: 'widget.js.gz', source: gzipSync(js.code, { level: 9 }) });
    },
  };
}

export default defineConfig({
  plugins: [demoPageAndGzip()],
  build: {
    outDir: here('../dist'),
    emptyOutDir: false,
    target: 'es2019',
    minify: 'esbuild',
    sourcemap: false,
    copyPublicDir: false,
    reportCompressedSize: false,
    lib: {
      entry: here('./src/main.js'),
      name: 'KefuWidgetBundle',
      formats: ['iife'],
      fileName: () => 'widget.js',
    },
  },
});
