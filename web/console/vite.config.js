// Builds the agent console into web/dist: index.html (served by `kefu serve`
// at /) and its hashed assets under web/dist/assets/.  Other web apps (the
// chat widget) build into the same directory, so this build never empties
// it (the root `npm run build` cleans first).
import { fileURLToPath } from 'node:url';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers';

// Every script and style sheet also as NAME.gz beside it: `kefu serve` sends
// that to browsers that take gzip (the console is ~1 MB of script, ~0.3 MB
// compressed) without compressing on each request.  Written after Vite has
// written the files (writeBundle): earlier, the chunks still hold
// placeholders Vite fills in last, and the .gz would not match.
function gzipAssets() {
  return {
    name: 'kefu-gzip-assets',
    writeBundle(options) {
      const dir = join(options.dir, 'assets');
      for (const name of readdirSync(dir)) {
        if (!/\.(js|css)$/.test(name)) continue;
        const source = readFileSync(join(dir, name));
        if (source.length >= 1024) writeFileSync(join(dir, `${name}.gz`), gzipSync(source, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  // Element Plus components are imported where a template uses them (with
  // their own CSS), not registered whole: a third of the script.
  plugins: [vue(), Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false }), gzipAssets()],
  base: './',
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('../dist', import.meta.url)),
    emptyOutDir: false,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npm run dev` against a local `kefu serve`.
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
  test: {
    environment: 'jsdom',
    include: ['test/**/*.test.js'],
    // Element Plus's modules import their CSS: let Vite (not Node) load them.
    server: { deps: { inline: ['element-plus'] } },
  },
});
