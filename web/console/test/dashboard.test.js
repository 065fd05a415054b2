// DashboardPage with the API mocked (and ECharts replaced by a recorder):
// the figures and their inbox links, the overview asked from local
// midnight, the chart's channels in the page's language, the agents'
// presence kept live, the urgent list in order, debounced live reloads,
// and a failed load shown.
import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import { mount, flushPromises } from '@vue/test-utils';
import { nextTick } from 'vue';
import ElementPlus from 'element-plus';
import { createRouter, createWebHashHistory } from 'vue-router';

const charts = [];
vi.mock('../src/components/dashboard/echarts.js', () => ({
  init: vi.fn((el) => {
    const chart = { el, options: [], setOption(o) { this.options.push(o); }, resize: vi.fn(), dispose: vi.fn() };
    charts.push(chart);
    return chart;
  }),
}));

const answers = {};
vi.mock('../src/lib/api.js', async (importOriginal) => {
  const real = await importOriginal();
  return {
    ...real,
    api: {
      get: vi.fn(async (path, params) => {
        const a = answers[path];
        const v = typeof a === 'function' ? a(params) : a;
        if (v instanceof Error) throw v;
        return structuredClone(v);
      }),
    },
  };
});

const { api, ApiError } = await import('../src/lib/api.js');
const { i18n, setLocale } = await import('../src/i18n/index.js');
const { session } = await import('../src/lib/session.js');
const { realtime } = await import('../src/lib/realtime.js');
const DashboardPage = (await import('../src/pages/DashboardPage.vue')).default;

const OVERVIEW = {
  mine_new: 2, mine_open: 1234, mine_pending: 5, unassigned: 7, urgent: 3, open: 1349,
  created_today: 21, created_today_by_channel: { email: 7, chat: 5, wechat: 7, api: 2 },
};
const PRESENCE = {
  items: [
    { user_id: 5, name: 'Emily Chen', status: 'offline', chosen: 'online' },
    { user_id: 2, name: '张主管 Zhang Wei', status: 'away', chosen: 'away' },
    { user_id: 3, name: '李娜 Li Na', status: 'online', chosen: 'online' },
    { user_id: 4, name: '王芳 Wang Fang', status: 'online', chosen: 'online' },
  ],
  next: null,
};
const ticket = (id, status, updated, extra = {}) => ({
  id, number: id, subject: `工单 ${id}`, status, status_category: status, priority: 'urgent',
  customer: { id: 1, name: '郭芳', email: null, level: 'normal' }, origin: 'email',
  created_at: '2026-11-20T08:00:00Z', updated_at: updated, ...extra,
});
const TICKETS = {
  new: [ticket(41, 'new', '2026-11-22T10:00:00Z')],
  open: [ticket(12, 'open', '2026-11-22T09:00:00Z'), ticket(8, 'open', '2026-11-21T09:00:00Z')],
  pending: [ticket(30, 'pending', '2026-11-20T09:00:00Z')],
};

function routerFor() {
  const Empty = { template: '<div />' };
  return createRouter({
    history: createWebHashHistory(),
    routes: [
      { path: '/home', name: 'home', component: Empty },
      { path: '/inbox/:view?', name: 'inbox', component: Empty },
      { path: '/tickets/:id(\\d+)', name: 'ticket', component: Empty },
    ],
  });
}

async function mountPage(props = {}) {
  const router = routerFor();
  router.push('/home');
  await router.isReady();
  const w = mount(DashboardPage, { props: { debounceMs: 40, ...props }, global: { plugins: [ElementPlus, i18n, router] }, attachTo: document.body });
  await flushPromises();
  await settle(); // the chart is an async component
  return w;
}

const calls = (path) => api.get.mock.calls.filter(([p]) => p === path);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function settle() {
  for (let i = 0; i < 5; i++) {
    await sleep(5);
    await flushPromises();
  }
}
let wrapper;

beforeEach(() => {
  charts.length = 0;
  api.get.mockClear();
  answers['/api/v1/tickets/overview'] = OVERVIEW;
  answers['/api/v1/presence'] = PRESENCE;
  answers['/api/v1/tickets'] = (p) => ({ items: TICKETS[p.status] || [], next: null });
  session.user = { id: 3, name: '李娜 Li Na', permissions: ['tickets.read'], locale: 'zh-CN', preferences: {} };
  setLocale('zh-CN');
  realtime.state.status = 'open';
});
afterEach(() => {
  if (wrapper) wrapper.unmount();
  wrapper = null;
  session.user = null;
  realtime.state.status = 'closed';
});

describe('DashboardPage', () => {
  it('shows my figures and the queue, each linking to its inbox view', async () => {
    wrapper = await mountPage();
    const stat = (k) => wrapper.get(`[data-test=stat-${k}]`);
    expect(stat('mine_new').text()).toContain('新工单');
    expect(stat('mine_new').text()).toContain('2');
    expect(stat('mine_open').text()).toContain('1,234'); // through lib/format.js
    expect(stat('mine_open').attributes('data-value')).toBe('1234');
    expect(stat('open').text()).toContain('1,349');
    const href = (k) => stat(k).attributes('href');
    expect(href('mine_new')).toBe('#/inbox/mine?status=new');
    expect(href('mine_open')).toBe('#/inbox/mine?status=open');
    expect(href('mine_pending')).toBe('#/inbox/mine?status=pending');
    expect(href('unassigned')).toBe('#/inbox/unassigned');
    expect(href('urgent')).toBe('#/inbox/all?priority=urgent');
    expect(href('open')).toBe('#/inbox/all');
    expect(wrapper.text()).toContain('你好，李娜 Li Na');
    expect(wrapper.get('[data-test=live-status]').text()).toBe('实时更新');
  });

  it('asks for today from local midnight', async () => {
    wrapper = await mountPage();
    const [[, params]] = calls('/api/v1/tickets/overview');
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    expect(params.since).toBe(midnight.getTime());
    expect(new Date(params.since).getHours()).toBe(0);
  });

  it('charts today\'s tickets by channel, largest first (ties by channel), in the page\'s language', async () => {
    wrapper = await mountPage();
    const panel = wrapper.get('[data-test=chart-channels]');
    expect(panel.get('[data-test=created-today]').text()).toBe('今日共 21 个工单');
    expect(charts).toHaveLength(1);
    let o = charts[0].options.at(-1);
    expect(o.yAxis.data).toEqual(['邮件', '微信', '在线聊天', 'API']);
    expect(o.series[0].data.map((d) => d.value)).toEqual([7, 7, 5, 2]);
    expect(o.series[0].label.formatter({ value: 1234 })).toBe('1,234');
    setLocale('en');
    await nextTick();
    await flushPromises();
    o = charts[0].options.at(-1);
    expect(o.yAxis.data).toEqual(['Email', 'WeChat', 'Chat', 'API']);
    expect(o.tooltip.formatter({ name: 'Email', value: 1 })).toBe('Email: 1 ticket');
    expect(o.tooltip.formatter({ name: 'Email', value: 7 })).toBe('Email: 7 tickets');
    expect(panel.get('[data-test=created-today]').text()).toBe('21 tickets today');
    // the chart follows the window's size and goes with the page
    window.dispatchEvent(new Event('resize'));
    expect(charts[0].resize).toHaveBeenCalled();
    wrapper.unmount();
    wrapper = null;
    expect(charts[0].dispose).toHaveBeenCalled();
  });

  it('shows no chart on a day without tickets', async () => {
    answers['/api/v1/tickets/overview'] = { ...OVERVIEW, created_today: 0, created_today_by_channel: {} };
    wrapper = await mountPage();
    expect(charts).toHaveLength(0);
    expect(wrapper.get('[data-test=chart-channels]').text()).toContain('今天还没有新工单');
  });

  it('lists the agents, online first, and follows presence events', async () => {
    wrapper = await mountPage();
    const panel = wrapper.get('[data-test=agents-online]');
    expect(panel.attributes('data-online')).toBe('2');
    expect(panel.text()).toContain('2 人在线 · 1 人离开');
    const rows = () => panel.findAll('[data-test=agent]').map((r) => [r.attributes('data-user-id'), r.attributes('data-status')]);
    expect(rows()).toEqual([['3', 'online'], ['4', 'online'], ['2', 'away'], ['5', 'offline']]);
    expect(panel.find('[data-user-id="3"]').text()).toContain('（我）');
    realtime.emit('presence', { user_id: 5, name: 'Emily Chen', status: 'online', chosen: 'online' });
    await nextTick();
    expect(panel.attributes('data-online')).toBe('3');
    expect(rows()[0]).toEqual(['5', 'online']);
    // someone new: the list is fetched again
    realtime.emit('presence', { user_id: 9, name: 'New', status: 'online', chosen: 'online' });
    await sleep(80);
    await flushPromises();
    expect(calls('/api/v1/presence')).toHaveLength(2);
  });

  it('lists my urgent open tickets, not started first, longest waiting first', async () => {
    wrapper = await mountPage();
    const list = calls('/api/v1/tickets').map(([, p]) => p);
    expect(list.map((p) => p.status).sort()).toEqual(['new', 'open', 'pending']);
    for (const p of list) expect(p).toMatchObject({ view: 'mine', priority: 'urgent' });
    const rows = wrapper.findAll('[data-test=urgent-ticket]');
    expect(rows.map((r) => r.attributes('data-ticket-id'))).toEqual(['41', '8', '12', '30']);
    expect(rows[0].attributes('href')).toBe('#/tickets/41');
    expect(rows[0].text()).toContain('#41');
    expect(rows[0].text()).toContain('工单 41');
    expect(rows[0].text()).toContain('新建');
  });

  it('says so when nothing is urgent', async () => {
    answers['/api/v1/tickets'] = { items: [], next: null };
    wrapper = await mountPage();
    expect(wrapper.findAll('[data-test=urgent-ticket]')).toHaveLength(0);
    expect(wrapper.get('[data-test=urgent-empty]').text()).toContain('没有紧急工单');
  });

  it('reloads once after a burst of ticket events', async () => {
    wrapper = await mountPage();
    expect(calls('/api/v1/tickets/overview')).toHaveLength(1);
    answers['/api/v1/tickets/overview'] = { ...OVERVIEW, unassigned: 8 };
    for (let i = 0; i < 5; i++) {
      realtime.emit('ticket.created', { ticket: { id: 100 + i } });
      realtime.emit('ticket.updated', { ticket: { id: 12 }, changes: [] });
    }
    await sleep(10);
    expect(calls('/api/v1/tickets/overview')).toHaveLength(1);
    await sleep(100);
    await flushPromises();
    expect(calls('/api/v1/tickets/overview')).toHaveLength(2);
    expect(calls('/api/v1/tickets')).toHaveLength(6); // the urgent list too, once
    expect(calls('/api/v1/presence')).toHaveLength(1); // not presence
    expect(wrapper.get('[data-test=stat-unassigned]').text()).toContain('8');
  });

  it('reloads everything after a resync, and after a reconnect', async () => {
    wrapper = await mountPage();
    realtime.emit('resync', {});
    await sleep(80);
    await flushPromises();
    expect(calls('/api/v1/presence')).toHaveLength(2);
    realtime.emit('open', {}); // the first open: nothing missed
    await sleep(80);
    expect(calls('/api/v1/presence')).toHaveLength(2);
    realtime.emit('close', {});
    realtime.emit('open', {});
    await sleep(80);
    await flushPromises();
    expect(calls('/api/v1/presence')).toHaveLength(3);
  });

  it('stops listening when it goes', async () => {
    wrapper = await mountPage();
    const before = realtime.handlers.get('ticket.created').size;
    wrapper.unmount();
    wrapper = null;
    expect(realtime.handlers.get('ticket.created').size).toBe(before - 1);
    realtime.emit('ticket.created', {});
    await sleep(80);
    expect(calls('/api/v1/tickets/overview')).toHaveLength(1);
  });

  it('shows a failed load, and the refresh button tries again', async () => {
    answers['/api/v1/tickets/overview'] = new ApiError(500, 'internal', 'database is down');
    wrapper = await mountPage();
    expect(wrapper.get('[data-test=dashboard-error]').text()).toContain('database is down');
    expect(wrapper.get('[data-test=stat-open]').text()).toContain('—');
    // what did load is shown
    expect(wrapper.findAll('[data-test=agent]')).toHaveLength(4);
    answers['/api/v1/tickets/overview'] = OVERVIEW;
    await wrapper.get('[data-test=dashboard-refresh]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-test=dashboard-error]').exists()).toBe(false);
    expect(wrapper.get('[data-test=stat-open]').text()).toContain('1,349');
  });

  it('speaks all three languages', async () => {
    wrapper = await mountPage();
    const title = () => wrapper.get('[data-test=urgent-tickets] h3').text();
    expect(title()).toBe('我的紧急工单');
    setLocale('zh-TW');
    await nextTick();
    expect(title()).toBe('我的緊急工單');
    expect(wrapper.get('[data-test=stat-unassigned]').text()).toContain('待指派');
    setLocale('en');
    await nextTick();
    expect(title()).toBe('My urgent tickets');
    expect(wrapper.get('[data-test=agents-online]').text()).toContain('2 online · 1 away');
    expect(wrapper.get('[data-test=live-status]').text()).toBe('Live');
  });
});
