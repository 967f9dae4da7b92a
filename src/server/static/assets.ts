/**
 * @module server/static/assets
 * The dashboard's stylesheet and script as string constants: they travel inside the bundled binary
 * (scripts/bundle.mjs bundles src/, and package.json ships only dist/ and data/), so no file has
 * to be found at run time.
 *
 * Accessibility: text and badge colours meet WCAG 2.1 AA contrast (4.5:1) on their backgrounds;
 * focus is always visible (`:focus-visible` outline); the layout reflows on narrow screens.
 */

export const APP_CSS = `:root {
  --fg: #1b1f24; --muted: #57606a; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de;
  --link: #0a58ca; --accent: #0b3d91; --focus: #bf5700;
  --ok-bg: #dafbe1; --ok-fg: #116329; --warn-bg: #fff3cd; --warn-fg: #6a4a00;
  --crit-bg: #ffebe9; --crit-fg: #a40e26; --info-bg: #ddf4ff; --info-fg: #0a3069;
}
* { box-sizing: border-box; }
html { font-size: 100%; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  background: var(--bg); line-height: 1.45; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible,
main:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -10000px; top: 0; background: var(--bg); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; top: .5rem; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .6rem 1.5rem;
  background: var(--accent); color: #fff; }
header.top a { color: #fff; }
.brand a { font-weight: 700; font-size: 1.15rem; text-decoration: none; }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.account { margin-left: auto; display: flex; gap: .75rem; align-items: center; font-size: .9rem; }
main { padding: 1rem 1.5rem 2rem; max-width: 90rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
footer { padding: 1rem 1.5rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; color: var(--muted); }
th, td { border-bottom: 1px solid var(--line); padding: .4rem .5rem; text-align: left; vertical-align: top; }
thead th { background: var(--panel); }
td { overflow-wrap: anywhere; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.nowrap { white-space: nowrap; }
tr.unknown td:first-child { border-left: 4px solid var(--crit-fg); }
ul.names, ul.codes { list-style: none; margin: 0; padding: 0; }
a.detail { text-decoration: none; }
a.detail li { text-decoration: underline; }
code, .hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em; overflow-wrap: anywhere; }
.reason-critical { color: var(--crit-fg); font-weight: 600; }
.reason-warning { color: var(--warn-fg); }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: .75rem; font-size: .8rem; font-weight: 600; white-space: nowrap; }
.badge-ok { background: var(--ok-bg); color: var(--ok-fg); }
.badge-warning { background: var(--warn-bg); color: var(--warn-fg); }
.badge-critical { background: var(--crit-bg); color: var(--crit-fg); }
.badge-info { background: var(--info-bg); color: var(--info-fg); }
.muted { color: var(--muted); }
.small { font-size: .85em; }
.notice { background: var(--warn-bg); color: var(--warn-fg); padding: .5rem .75rem; border-radius: .25rem; }
.summary { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: .5rem 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end; background: var(--panel);
  padding: .75rem; border: 1px solid var(--line); border-radius: .25rem; }
.field { display: flex; flex-direction: column; gap: .15rem; }
label { font-size: .85rem; font-weight: 600; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid #8c959f; border-radius: .25rem;
  background: #fff; color: var(--fg); }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
header.top button { background: transparent; border-color: #fff; }
form.inline { display: inline; }
form.stacked { display: flex; flex-direction: column; gap: .4rem; max-width: 30rem; margin-top: 1rem;
  padding: .75rem; border: 1px solid var(--line); border-radius: .25rem; }
form.stacked h3 { margin: 0; font-size: 1rem; }
nav.pager { display: flex; gap: 1.5rem; margin: 1rem 0; }
.chip { display: inline-block; background: var(--panel); border: 1px solid var(--line); border-radius: .25rem; padding: 0 .3rem; }
pre.fix { margin: 0; white-space: pre-wrap; font-size: .85em; }
svg.chart { width: 100%; max-width: 40rem; height: auto; display: block; }
svg.chart .bar { fill: var(--accent); }
svg.chart .axis { stroke: var(--muted); stroke-width: 1; }
svg.chart .tick { fill: var(--muted); font-size: 11px; }
.rel { color: var(--muted); font-size: .85em; margin-left: .25rem; }
/* The login page (server/auth/login.ts): one narrow column. */
main.login { max-width: 28rem; margin: 2rem auto; }
main.login form { display: flex; flex-direction: column; gap: .4rem; margin: 1rem 0; padding: .75rem;
  border: 1px solid var(--line); border-radius: .25rem; }
main.login h2 { margin: 0 0 .25rem; border: 0; font-size: 1.05rem; }
.error { background: var(--crit-bg); color: var(--crit-fg); padding: .5rem .75rem; border-radius: .25rem; }
@media (max-width: 40rem) { main, header.top { padding-left: .75rem; padding-right: .75rem; } .account { margin-left: 0; } }
`;

/**
 * Progressive enhancement only (every page works without it): relative ages beside absolute
 * times, and filters that apply as soon as a select changes. No eval, no inline handlers, no
 * innerHTML: it only creates text nodes (the CSP would refuse the rest anyway).
 */
export const APP_JS = `(function () {
  'use strict';
  function ago(ms) {
    var s = Math.round(ms / 1000), future = s < 0;
    s = Math.abs(s);
    var t = s < 90 ? s + ' s' : s < 5400 ? Math.round(s / 60) + ' min' : s < 172800 ? Math.round(s / 3600) + ' h' : Math.round(s / 86400) + ' d';
    return future ? 'in ' + t : t + ' ago';
  }
  function relativeTimes() {
    var now = Date.now();
    var nodes = document.querySelectorAll('time[datetime]:not(.date)');
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i], t = Date.parse(el.getAttribute('datetime') || '');
      if (isNaN(t)) continue;
      var next = el.nextSibling;
      if (next && next.nodeType === 1 && next.className === 'rel') next.textContent = '(' + ago(now - t) + ')';
      else {
        var span = document.createElement('span');
        span.className = 'rel';
        span.textContent = '(' + ago(now - t) + ')';
        el.parentNode.insertBefore(span, el.nextSibling);
      }
    }
  }
  function autosubmit() {
    var forms = document.querySelectorAll('form[data-autosubmit]');
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        var selects = form.querySelectorAll('select');
        for (var j = 0; j < selects.length; j++)
          selects[j].addEventListener('change', function () {
            if (form.requestSubmit) form.requestSubmit(); else form.submit();
          });
      })(forms[i]);
    }
  }
  function start() { relativeTimes(); autosubmit(); setInterval(relativeTimes, 60000); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
`;

/** A small shield in the brand colour (no text, no script: an SVG image cannot run script as an <img>/icon). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#0b3d91" d="M16 2 4 6v9c0 7.5 5.1 13.4 12 15 6.9-1.6 12-7.5 12-15V6z"/><path fill="#fff" d="m14 20.6-4.3-4.3 1.8-1.8 2.5 2.5 6.5-6.5 1.8 1.8z"/></svg>
`;
