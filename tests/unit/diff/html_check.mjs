// html_check.mjs PAGE.html SHOTDIR: loads the page of `memlens diff
// --format html` for html_prog.c's two builds (grow_buf 1 000 000 -> 2 000 000
// bytes at the peak, shrink_buf 400 000 -> 200 000, churn_loop 2000
// allocations in both; the page made with --fail-if 'peak>+5%' and
// 'leaked>0') from file:// in headless Chromium (playwright-core, from
// web/node_modules, driving /usr/bin/chromium) and uses it as a person
// would.  Prints "# ..." notes, and "ok" or "TESTFAIL: ..." (exit 1).  The
// screenshot goes to SHOTDIR/diff.png.
import { join } from 'node:path';
import { errors, fail, note, withPage } from '../report/browser.mjs';

const [page, shots] = process.argv.slice(2);
// the hue (0-360) of a CSS colour "rgb(r, g, b)"
function hue(c) {
	const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(c);
	if (!m)
		return -1;
	const [r, g, b] = m.slice(1).map((x) => x / 255), mx = Math.max(r, g, b), mn = Math.min(r, g, b);
	if (mx === mn)
		return -1; // grey
	let h = mx === r ? (g - b) / (mx - mn) : mx === g ? 2 + (b - r) / (mx - mn) : 4 + (r - g) / (mx - mn);
	return (h * 60 + 360) % 360;
}

await withPage(page, async (p) => {
	if (!(await p.$eval('#report-page', (e) => e.hidden)) || await p.$eval('#diff-page', (e) => e.hidden))
		fail('the report page is shown, or the diff page is not');
	const settle = () => p.waitForTimeout(700); // d3's transitions (250 ms) and their delays
	await settle();

	// the header: totals and their changes, the conditions
	const peakRow = await p.$eval('#d-totals tr[data-measure="peak"]', (tr) => tr.textContent);
	note('peak totals: ' + peakRow);
	if (!peakRow.includes('1,400,000 bytes') || !peakRow.includes('2,200,000 bytes') ||
	    !peakRow.includes('+800,000 bytes') || !peakRow.includes('+57.1%'))
		fail('the totals\' peak row: ' + peakRow);
	const conds = await p.$eval('#d-fail', (d) => d.textContent);
	note('conditions: ' + conds);
	if (!/Failed: 1 of 2/.test(conds) || !/peak>\+5%: holds/.test(conds) || !/leaked>0: does not hold/.test(conds))
		fail('the --fail-if conditions: ' + conds);

	const frame = (name) => `#d-flame g.frame[name="${name}"]`;
	const width = (name) => p.$eval(frame(name) + ' rect', (r) => r.getBBox().width).catch(() => 0);
	const fill = (name) => p.$eval(frame(name) + ' rect', (r) => getComputedStyle(r).fill);
	const tip = async (name) => {
		// force: past the actionability checks, which never found the box
		// "stable" on this page (it is: its bounding box holds still)
		await p.hover(frame(name) + " rect", { force: true });
		await p.waitForTimeout(300);
		return p.$eval('.d3-flame-graph-tip', (t) => t.textContent);
	};

	// peak: grow_buf red with its exact figures, shrink_buf blue
	let t = await tip('grow_buf');
	note('grow_buf tooltip: ' + t);
	for (const s of ['NEW: 2,000,000 bytes', 'BASE: 1,000,000 bytes', 'change: +1,000,000 bytes', '+100.0%',
		'html_prog.c:'])
		if (!t.includes(s))
			fail(`grow_buf's tooltip lacks "${s}": ${t}`);
	t = await tip('shrink_buf');
	note('shrink_buf tooltip: ' + t);
	for (const s of ['NEW: 200,000 bytes', 'BASE: 400,000 bytes', 'change: \u2212200,000 bytes', '\u221250.0%'])
		if (!t.includes(s))
			fail(`shrink_buf's tooltip lacks "${s}": ${t}`);
	await p.mouse.move(0, 0);
	const gc = await fill('grow_buf'), sc = await fill('shrink_buf');
	note(`fills: grow_buf ${gc} (hue ${hue(gc).toFixed(0)}), shrink_buf ${sc} (hue ${hue(sc).toFixed(0)})`);
	if (!(hue(gc) >= 0 && (hue(gc) < 25 || hue(gc) > 335)))
		fail('grow_buf is not red: ' + gc);
	if (!(hue(sc) > 190 && hue(sc) < 250))
		fail('shrink_buf is not blue: ' + sc);
	if (await p.$(frame('churn_loop')))
		fail('churn_loop (no bytes at the peak) is drawn under the peak weight');

	// size by BASE: grow_buf 2.5 times shrink_buf's width instead of 10
	const ratio = async () => (await width('grow_buf')) / (await width('shrink_buf'));
	const rNew = await ratio();
	await p.selectOption('#df-size', 'base');
	await settle();
	const rBase = await ratio();
	note(`grow_buf / shrink_buf widths: ${rNew.toFixed(2)} by NEW, ${rBase.toFixed(2)} by BASE`);
	if (Math.abs(rNew - 10) > 0.5 || Math.abs(rBase - 2.5) > 0.2)
		fail('the widths do not follow NEW or BASE');
	await p.selectOption('#df-size', 'new');

	// allocations: churn_loop (unchanged: grey) is now the widest
	await p.selectOption('#df-weight', 'allocs');
	await settle();
	t = await tip('churn_loop');
	note('allocs: churn_loop tooltip: ' + t);
	if (!t.includes('NEW: 2,000 allocations') || !t.includes('BASE: 2,000 allocations'))
		fail('allocs weight: churn_loop\'s tooltip: ' + t);
	if (!((await width('churn_loop')) > 10 * (await width('grow_buf'))))
		fail('allocs weight: churn_loop is not the widest frame');
	await p.mouse.move(0, 0);
	const cc = await fill('churn_loop');
	if (hue(cc) !== -1)
		fail('churn_loop (unchanged) is not grey: ' + cc);
	await p.selectOption('#df-weight', 'peak');
	await settle();

	// search
	await p.fill('#df-search', 'grow');
	await settle();
	const hi = await fill('grow_buf'), lo = await fill('shrink_buf');
	note(`search "grow": grow_buf ${hi}, shrink_buf ${lo}`);
	if (!/230, 0, 230/.test(hi) || /230, 0, 230/.test(lo))
		fail(`search did not highlight grow_buf only (${hi} vs ${lo})`);
	const details = await p.$eval('#df-details', (d) => d.textContent);
	if (!details.includes('1 frames match'))
		fail('search details: ' + details);

	// the chart: both timelines and both peaks
	if (!(await p.$('#d-timeline canvas')))
		fail('no timeline chart');
	const legend = await p.$eval('#d-timeline .u-legend', (l) => l.textContent);
	note('chart legend: ' + legend);
	for (const s of ['BASE live heap', 'NEW live heap', 'BASE peak', 'NEW peak'])
		if (!legend.includes(s))
			fail(`the chart lacks "${s}"`);

	// the tables: grow_buf grew most, shrink_buf shrank; a row opens its stack
	const first = (id) => p.$eval(`#${id} tbody tr.row td.fn`, (td) => td.textContent).catch(() => '');
	if (await first('d-grow') !== 'grow_buf' || await first('d-shrink') !== 'shrink_buf')
		fail(`the tables' first rows: ${await first('d-grow')}, ${await first('d-shrink')}`);
	await p.click('#d-grow tbody tr.row');
	const stack = await p.$eval('#d-grow tbody tr.stack', (tr) => tr.hidden ? '' : tr.textContent);
	if (!/grow_buf .*html_prog\.c:\d+/.test(stack) || !/main .*html_prog\.c:\d+/.test(stack))
		fail('the expanded stack lacks grow_buf or main with file:line: ' + stack);
	await p.click('#d-tabs button[data-tab="allocs"]');
	if (await first('d-grow') !== 'grow_buf' || !(await p.$eval('#d-grow tbody', (b) => b.textContent))
		.includes('+10'))
		fail('the allocations tab: grow_buf +10 is not first');

	await p.fill('#df-search', '');
	await p.hover(frame("grow_buf") + " rect", { force: true });
	await p.waitForTimeout(300);
	await p.screenshot({ path: join(shots, 'diff.png'), fullPage: true });
});
