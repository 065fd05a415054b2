// main.js -- starts the console: Vue, Element Plus, the three languages, the
// router; the logged-in agent's language once their session is known.
import { createApp, watch } from 'vue';
// Element Plus's variables and base rules; each component brings its own
// CSS (vite.config.js), the services called from scripts need theirs here.
import 'element-plus/theme-chalk/base.css';
import 'element-plus/es/components/message/style/css';
import 'element-plus/es/components/message-box/style/css';
import './styles.css';
import App from './App.vue';
import { router } from './router.js';
import { i18n, setLocale } from './i18n/index.js';
import { session, whenLoggedOut } from './lib/session.js';
import { realtime } from './lib/realtime.js';

// The user's saved language wins over the browser's.
watch(() => session.user && session.user.locale, (l) => setLocale(l), { immediate: true });
// Live events while someone is logged in.
watch(() => !!session.user, (on) => (on ? realtime.start() : realtime.stop()), { immediate: true });
whenLoggedOut(() => router.push({ name: 'login' }));

createApp(App).use(i18n).use(router).mount('#app');
