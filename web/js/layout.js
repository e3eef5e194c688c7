// Markup shared by every page: the site header (brand, main navigation, sign-in state) and a data table builder.
// The pages carry an empty `<header class="site-header"></header>`; startPage() fills it from here, so the nav is
// written once.

import { h, replace } from './ui.js';

export const NAV = [
  { href: '/', text: 'Hotels' },
  { href: '/reservations.html', text: 'My reservations' },
  { href: '/staff.html', text: 'Staff' },
];

/** Fill `<header class="site-header">` with the brand, the nav (current page marked) and the `#auth` area. */
export function renderHeader(header = document.querySelector('header.site-header')) {
  if (!header) return null;
  const norm = (p) => (p === '/' ? '/index.html' : p);
  const here = norm(location.pathname);
  replace(
    header,
    h('a', { class: 'brand', href: '/' }, 'Hotel booking'),
    h(
      'nav',
      { class: 'site-nav', 'aria-label': 'Main' },
      NAV.map((n) => h('a', { href: n.href, 'aria-current': norm(n.href) === here ? 'page' : null }, n.text)),
    ),
    h('div', { id: 'auth', class: 'auth' }),
  );
  return header;
}

/**
 * A data table: `columns` is `[{title, className?}]`, `rows` `[{cells: [node|string], attrs?}]`.
 * Returns the `<div class="table-wrap">` holding it (scrolls sideways on its own, never the page). On a phone
 * (`cardsOnPhone`, style.css) each row becomes a card whose cells carry their column's title.
 */
export function dataTable({ id, caption, columns, rows, empty = 'Nothing yet.', cardsOnPhone = true }) {
  const table = h(
    'table',
    { id, class: cardsOnPhone ? 'data-table cards-on-phone' : 'data-table' },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.className }, c.title)))),
    h(
      'tbody',
      {},
      rows.length
        ? rows.map((r) => h('tr', r.attrs || {}, r.cells.map((cell, i) => h('td', { class: columns[i]?.className, 'data-label': columns[i]?.title || null }, cell))))
        : h('tr', {}, h('td', { colspan: String(columns.length), class: 'empty' }, empty)),
    ),
  );
  return h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': caption || null }, table);
}
