// diff.js: the page of `memlens diff --format html`: both profiles' totals
// and their changes, the --fail-if conditions, a differential flame graph,
// both timelines on one uPlot chart and the stacks that grew and shrank
// most.  The JSON is diff_html.c's: "sides" [BASE, NEW], flame trees as
// [frame, NEW value, NEW second, BASE value, BASE second, children | merged
// count], stacks as [site, in BASE, in NEW, BASE's figures, NEW's figures].
(function () {
	'use strict';
	const M = window.memlens, D = M.D;
	if (D.format !== 'memlens-diff-html')
		return;
	const { $, num, human, bytes, dur, pct, esc, el } = M;
	$('diff-page').hidden = false;
	const [B, N] = D.sides;

	// The measures (diff.c's), and the flame weight and stack figure of each.
	const MEASURES = [
		{ key: 'peak', flame: 'peak', field: 'peak_bytes', second: 'peak_blocks', label: 'Bytes live at the peak',
			unit: 'bytes', unit2: 'blocks' },
		{ key: 'churn', flame: 'churn', field: 'bytes_total', second: 'allocs', label: 'Allocated bytes (churn)',
			unit: 'bytes', unit2: 'allocations' },
		{ key: 'allocs', flame: 'allocs', field: 'allocs', second: 'bytes_total', label: 'Allocations',
			unit: 'allocations', unit2: 'bytes' },
		{ key: 'temps', flame: 'temp', field: 'temp_allocs', second: 'temp_bytes', label: 'Temporary allocations',
			unit: 'allocations', unit2: 'bytes' },
		{ key: 'leaked', flame: 'leaks', field: 'live_bytes', second: 'live_blocks',
			label: 'Leaked (bytes live at exit)', unit: 'bytes', unit2: 'blocks' },
	];
	const fmtu = (u, v) => (u === 'bytes' ? bytes(v) : num(v) + ' ' + u);
	const fmtw = (w, v) => fmtu(w.unit, v);
	const sign = (d) => (d > 0 ? '+' : d < 0 ? '\u2212' : '\u00b1');
	// a change: "+1,000,000 bytes (+976.6 KiB)", "−4 allocations"
	const fmtd = (u, d) => sign(d) + fmtu(u, Math.abs(d));
	// a change's share of BASE: "+100.0%", "new" from nothing
	const dpct = (b, d) => (b ? sign(d) + (100 * Math.abs(d) / b).toFixed(1) + '%' : d ? 'new' : '\u00b10%');

	// ---- header --------------------------------------------------------
	function header() {
		$('d-prog').textContent = M.base(N.exe || '?');
		const dl = $('d-files');
		for (const s of D.sides)
			dl.append(el('dt', null, s.label), el('dd', null, s.file + ': ' + (s.exe || '?') + ' (pid ' + s.pid +
				', ' + dur(s.duration_ns) + ', written at ' + s.reason + ', ' + num(s.nstacks) + ' stacks' +
				(s.sample_bytes ? ', sampled: figures are estimates' : '') + ')'));
		const t = $('d-totals');
		t.tHead.append(el('tr', null, el('th', null, 'Measure'), el('th', null, 'BASE'), el('th', null, 'NEW'),
			el('th', null, 'Change'), el('th', null, '%')));
		for (const m of MEASURES) {
			const b = B.totals[m.key], n = N.totals[m.key], d = n - b;
			const tr = el('tr', { 'data-measure': m.key, class: d > 0 ? 'grew' : d < 0 ? 'shrank' : '' },
				el('td', null, m.label), el('td', null, fmtw(m, b)), el('td', null, fmtw(m, n)),
				el('td', null, fmtd(m.unit, d)), el('td', null, dpct(b, d)));
			t.tBodies[0].append(tr);
		}
		const box = $('d-fail');
		if (!D.fail_if.length)
			return;
		const held = D.fail_if.filter((c) => c.holds).length;
		box.append(el('h3', { class: held ? 'fail' : 'pass' }, held ? 'Failed: ' + held + ' of ' +
			D.fail_if.length + ' --fail-if conditions hold' : 'Passed: no --fail-if condition holds'));
		const ul = el('ul');
		for (const c of D.fail_if)
			ul.append(el('li', { class: c.holds ? 'fail' : 'pass' }, el('code', null, c.expr), ': ' +
				(c.holds ? 'holds (' + c.why + ')' : 'does not hold')));
		box.append(ul);
	}

	// ---- differential flame graph --------------------------------------
	let sizeBy = 'new';
	// vn, sn: NEW's figures; vb, sb: BASE's; value: the size drawn (not n,
	// v, c, l or d: d3-flame-graph reads those as name, value, children...)
	function toTree(a) {
		const t = M.toTree(a, 4, (n, x) => { n.vn = x[1]; n.sn = x[2]; n.vb = x[3]; n.sb = x[4]; });
		(function size(n) {
			let kids = 0;
			for (const c of n.children || [])
				kids += size(c);
			n.value = sizeBy === 'new' ? n.vn : sizeBy === 'base' ? n.vb : Math.max(n.vn, n.vb, kids);
			return n.value;
		})(t);
		return t;
	}
	// growth red, shrink blue, deeper with the change relative to the larger
	// figure (a doubling is half way, a new frame all the way); unchanged grey
	const grow = d3.interpolateRgb('#fcd4cc', '#c62a12'), shrink = d3.interpolateRgb('#d3e3f6', '#1c5fae');
	function color(d, orig) {
		if (d.highlight)
			return orig;
		const n = d.data.vn, b = d.data.vb;
		if (n === b)
			return '#cfcfcf';
		const r = (n - b) / Math.max(n, b);
		return r > 0 ? grow(r) : shrink(-r);
	}
	function tipHtml(d, w) {
		const x = d.data, dv = x.vn - x.vb, d2 = x.sn - x.sb;
		let h = '<b>' + esc(x.name) + '</b>';
		if (x.f >= 0)
			h += '<br>' + M.fplace(x.f);
		else if (x.merged)
			h += '<br>' + x.merged + ' callees, each under ' + (100 / D.small) + '% of the total';
		h += '<br>' + esc(w.label) + ':';
		h += '<br>NEW: ' + esc(fmtw(w, x.vn)) + ', ' + esc(fmtu(w.unit2, x.sn));
		h += '<br>BASE: ' + esc(fmtw(w, x.vb)) + ', ' + esc(fmtu(w.unit2, x.sb));
		h += '<br>change: ' + esc(fmtd(w.unit, dv)) + ' (' + dpct(x.vb, dv) + '), ' + esc(fmtd(w.unit2, d2)) +
			(!x.vb && x.vn ? '<br><i>only in NEW</i>' : !x.vn && x.vb ? '<br><i>only in BASE</i>' : '');
		return h;
	}
	function flame() {
		$('df-small').textContent = (100 / D.small) + '%';
		const view = M.flameView({
			p: 'df', box: 'd-flame', weights: MEASURES, tip: tipHtml, fmt: fmtw, color: color,
			tree: (w) => toTree(D.flame[w.flame]),
			label: (d, w) => d.data.name + ': ' + fmtd(w.unit, d.data.vn - d.data.vb) + ' (' +
				dpct(d.data.vb, d.data.vn - d.data.vb) + ')',
		});
		$('df-size').addEventListener('change', () => {
			sizeBy = $('df-size').value;
			view.draw();
		});
	}

	// ---- both timelines ------------------------------------------------
	function timeline() {
		const box = $('d-timeline');
		const has = (s) => s.timeline && s.timeline.t_ns.length;
		if (!has(B) && !has(N)) {
			box.append(el('p', { class: 'note' }, 'Neither profile has a timeline.'));
			return;
		}
		// one row per point of either side, in time order; a side's columns
		// are null on the other's rows (the lines span them)
		const rows = [];
		D.sides.forEach((s, k) => {
			const T = s.timeline, rss = Array.isArray(T.rss) && T.rss.length === T.t_ns.length;
			T.t_ns.forEach((t, i) => rows.push({ t: t / 1e9, k: k, live: T.live_bytes[i],
				rss: rss ? T.rss[i] : null }));
			if (s.peak)
				rows.push({ t: s.peak.t_ns / 1e9, k: k, live: s.peak.live_bytes, rss: null, peak: true });
		});
		rows.sort((a, b) => a.t - b.t);
		const col = () => rows.map(() => null);
		const xs = rows.map((r) => r.t), live = [col(), col()], rss = [col(), col()], peak = [col(), col()];
		let anyRss = [false, false];
		rows.forEach((r, i) => {
			live[r.k][i] = r.live;
			if (r.rss != null) {
				rss[r.k][i] = r.rss;
				anyRss[r.k] = true;
			}
			if (r.peak)
				peak[r.k][i] = r.live;
		});
		const val = (u, v) => (v == null ? '' : human(v));
		const series = [{ label: 'time', value: (u, v) => (v == null ? '' : v.toFixed(3) + ' s') }];
		const data = [xs];
		const colors = ['#2c6fbb', '#c0392b'];
		D.sides.forEach((s, k) => {
			series.push({ label: s.label + ' live heap', stroke: colors[k], width: 1.5, spanGaps: true, value: val });
			data.push(live[k]);
		});
		D.sides.forEach((s, k) => {
			if (!anyRss[k])
				return;
			series.push({ label: s.label + ' RSS', stroke: colors[k], width: 1, dash: [6, 4], spanGaps: true,
				value: val });
			data.push(rss[k]);
		});
		D.sides.forEach((s, k) => {
			series.push({ label: s.label + ' peak', stroke: colors[k], width: 0,
				points: { show: true, size: 9, fill: k ? '#ffd400' : '#9fd4ff' }, value: val });
			data.push(peak[k]);
		});
		if (anyRss[0] || anyRss[1])
			$('d-rss-note').textContent = 'The dashed lines are the resident set size (RSS) of each process.';
		new uPlot({
			width: Math.max(400, box.clientWidth || 1000), height: 280, series: series,
			scales: { x: { time: false } },
			axes: [{ label: 'seconds since start', values: (u, v) => v.map((x) => x + ' s') },
				{ size: 80, values: (u, v) => v.map(human) }],
		}, data, box);
	}

	// ---- growths and shrinks -------------------------------------------
	const SF = {};
	D.stack_fields.forEach((k, i) => (SF[k] = i));
	const NF = D.stack_fields.length;
	const fig = (s, side, key) => s[3 + side * NF + SF[key]];
	let tab = MEASURES[0];
	const open = new Set();
	function list(id, rows, m) {
		const t = $(id), head = t.tHead, body = t.tBodies[0];
		head.textContent = '';
		body.textContent = '';
		head.append(el('tr', null, ...['#', 'Allocated in', 'At', 'BASE', 'NEW', 'Change', '%', ''].map((h) =>
			el('th', null, h))));
		rows.forEach((s, i) => {
			const b = fig(s, 0, m.field), n = fig(s, 1, m.field), site = s[0], d = n - b;
			const name = M.leafName(site);
			const row = el('tr', { class: 'row' }, el('td', null, String(i + 1)),
				el('td', { class: 'fn', title: name }, name), el('td', null, M.leafWhere(site)),
				el('td', { title: num(b) }, m.unit === 'bytes' ? human(b) : num(b)),
				el('td', { title: num(n) }, m.unit === 'bytes' ? human(n) : num(n)),
				el('td', { title: num(d) }, (d > 0 ? '+' : '\u2212') + (m.unit === 'bytes' ? human(Math.abs(d)) :
					num(Math.abs(d)))),
				el('td', null, dpct(b, d)), el('td', { class: 'note' }, !s[1] ? 'new stack' : !s[2] ? 'gone' : ''));
			const detail = el('tr', { class: 'stack' }, el('td', { colspan: 8 }, M.stackList(site)));
			detail.hidden = !open.has(site);
			row.addEventListener('click', () => {
				detail.hidden = !detail.hidden;
				if (detail.hidden)
					open.delete(site);
				else
					open.add(site);
			});
			body.append(row, detail);
		});
		if (!rows.length)
			body.append(el('tr', null, el('td', { colspan: 8, class: 'note' }, '(none)')));
	}
	function drawTables() {
		const delta = (s) => fig(s, 1, tab.field) - fig(s, 0, tab.field);
		const grew = D.stacks.filter((s) => delta(s) > 0).sort((a, b) => delta(b) - delta(a)).slice(0, D.top);
		const shrank = D.stacks.filter((s) => delta(s) < 0).sort((a, b) => delta(a) - delta(b)).slice(0, D.top);
		list('d-grow', grew, tab);
		list('d-shrink', shrank, tab);
	}
	function tables() {
		$('d-top').textContent = num(D.top);
		const tabs = $('d-tabs');
		for (const m of MEASURES) {
			const b = el('button', { type: 'button', role: 'tab', 'data-tab': m.key,
				'aria-selected': String(m === tab) }, m.label);
			b.addEventListener('click', () => {
				tab = m;
				for (const o of tabs.children)
					o.setAttribute('aria-selected', String(o === b));
				drawTables();
			});
			tabs.append(b);
		}
		drawTables();
	}

	const t0 = performance.now();
	header();
	flame();
	timeline();
	tables();
	// for tests and the curious: when the page was ready
	document.body.dataset.ready = String(Math.round(performance.now() - t0));
})();
