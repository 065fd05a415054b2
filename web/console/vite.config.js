// Builds the agent console into web/dist: index.html (served by `kefu serve`
// at /) and its hashed assets under web/dist/assets/.  Other web apps (the
// chat widget) build into the same directory, so this build never empties
// it (the root `npm run build` cleans first).
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// Every script and style sheet also as NAME.gz beside it: `kefu serve` sends
// that to browsers that take gzip (the console is ~1 MB of script, ~0.3 MB
// compressed) without compressing on each request.
function gzipAssets() {
  return {
    name: 'kefu-gzip-assets',
    generateBundle(_options, bundle) {
      for (const [name, item] of Object.entries(bundle)) {
        if (!/\.(js|css)$/.test(name)) continue;
        const source = item.type === 'chunk' ? item.code : item.source;
        if (source.length < 1024) continue;
        this.emitFile({ type: 'asset', fileName: `${name}.gz`, source: gzipSync(source, { level: 9 }) });
      }
    },
  };
}

export default defineConfig({
  plugins: [vue(), gzipAssets()],
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
  },
});
