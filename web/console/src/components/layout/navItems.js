// navItems.js -- the console's top-level places, for the sidebar (desktop)
// and the tab bar (phone): route, icon, i18n label, data-test name.
import { HomeFilled, Tickets } from '@element-plus/icons-vue';

export const NAV_ITEMS = [
  { key: 'home', to: { name: 'home' }, icon: HomeFilled, label: 'layout.nav.home', match: ['home'] },
  { key: 'inbox', to: { name: 'inbox' }, icon: Tickets, label: 'layout.nav.inbox', match: ['inbox', 'ticket'], badge: 'mine' },
];
