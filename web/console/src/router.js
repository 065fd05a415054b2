// router.js -- the console's pages.  Hash history (#/tickets/12): the
// server serves one index.html at / and needs no rewrite rules.
import { createRouter, createWebHashHistory } from 'vue-router';
import { session, loadSession } from './lib/session.js';

const routes = [
  { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('./components/AppLayout.vue'),
    children: [
      { path: '', redirect: { name: 'home' } },
      { path: 'home', name: 'home', component: () => import('./pages/DashboardPage.vue') },
      { path: 'inbox/:view?', name: 'inbox', component: () => import('./pages/InboxPage.vue') },
      { path: 'tickets/:id(\\d+)', name: 'ticket', component: () => import('./pages/TicketPage.vue') },
    ],
  },
  { path: '/:rest(.*)*', redirect: { name: 'home' } },
];

export const router = createRouter({ history: createWebHashHistory(), routes });

router.beforeEach(async (to) => {
  if (!session.ready) await loadSession();
  if (to.meta.public) return session.user && to.name === 'login' ? { name: 'home' } : true;
  if (!session.user) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  return true;
});
