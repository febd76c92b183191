/** The report page's stylesheet: system fonts, cards on a responsive grid, nothing to download. */
export const REPORT_PAGE_STYLE = `
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --card: #ffffff; --page: #f3f4f6; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--page); }
header { background: var(--card); border-bottom: 1px solid var(--line); padding: 1rem 1.5rem; }
h1 { margin: 0 0 .25rem; font-size: 1.4rem; }
h2 { margin: 0 0 .75rem; font-size: 1.05rem; }
h3 { margin: .75rem 0 .5rem; font-size: .95rem; }
main { padding: 1.25rem 1.5rem 2rem; max-width: 1400px; margin: 0 auto; }
main > h2 { margin-top: 1.5rem; }
.meta, .detail, .empty { color: var(--muted); font-size: .85rem; }
.meta a { color: var(--accent); }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin-top: .75rem; }
.filters label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); }
.filters input, .filters select, .filters button { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.filters button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
.grid { display: grid; gap: 1rem; margin-bottom: 1rem; }
.grid.figures { grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); }
.grid.charts { grid-template-columns: repeat(auto-fill, minmax(min(100%, 520px), 1fr)); }
.grid.campaigns { grid-template-columns: repeat(auto-fill, minmax(min(100%, 560px), 1fr)); }
.scroll { overflow-x: auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.25rem; min-width: 0; }
.card.wide { grid-column: span 2; }
@media (max-width: 620px) { .card.wide { grid-column: auto; } }
dl { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: .75rem; margin: 0; }
dt { color: var(--muted); font-size: .8rem; }
dd { margin: 0; }
dd.value { font-size: 1.5rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.reasons { list-style: none; padding: 0; margin: 0; }
.reasons li { display: flex; justify-content: space-between; border-bottom: 1px solid var(--line); padding: .2rem 0; }
table { width: 100%; border-collapse: collapse; font-size: .85rem; font-variant-numeric: tabular-nums; margin-bottom: .75rem; }
th, td { text-align: right; padding: .3rem .4rem; border-bottom: 1px solid var(--line); }
th:first-child, thead th { text-align: left; }
thead th { color: var(--muted); font-weight: 500; }
.chart { position: relative; height: 280px; }
.chart.small { height: 220px; margin-bottom: .5rem; }
.stage { color: var(--muted); font-weight: 400; font-size: .8rem; border: 1px solid var(--line); border-radius: 999px; padding: 0 .5rem; margin-left: .25rem; }
.lift { margin: .25rem 0 0; font-size: .9rem; }
.lift.insufficient { color: #92400e; background: #fffbeb; border: 1px solid #fde68a; border-radius: 6px; padding: .4rem .6rem; }
.notes { margin-top: 1.5rem; color: var(--muted); font-size: .85rem; }
`;
