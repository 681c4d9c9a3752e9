// common.js: what the two pages share (report.js, the page of `memlens
// report --format html`; diff.js, the page of `memlens diff --format
// html`): the JSON html.c or diff_html.c writes (#memlens-data),
// formatting, the frames and stacks it names, and a flame graph with its
// controls (weight, icicle, search, zoom).  Each page's script runs when
// the JSON's "format" is its own.
window.memlens = (function () {
	'use strict';
	const D = JSON.parse(document.getElementById('memlens-data').textContent);
	const $ = (id) => document.getElementById(id);

	// ---- formatting ----------------------------------------------------
	const num = (n) => Number(n).toLocaleString('en-US');
	function human(b) {
		const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
		let i = 0;
		while (b >= 1024 && i < u.length - 1) {
			b /= 1024;
			i++;
		}
		return (i ? b.toFixed(b < 10 ? 2 : 1) : String(b)) + ' ' + u[i];
	}
	const bytes = (b) => num(b) + ' bytes' + (b >= 1024 ? ' (' + human(b) + ')' : '');
	function dur(ns) {
		if (ns < 1e3) return ns + ' ns';
		if (ns < 1e6) return (ns / 1e3).toFixed(1) + ' µs';
		if (ns < 1e9) return (ns / 1e6).toFixed(1) + ' ms';
		return (ns / 1e9).toFixed(3) + ' s';
	}
	const pct = (a, b) => (b ? (100 * a / b).toFixed(a * 1000 < b ? 3 : 1) : '0') + '%';
	const esc = (s) => String(s).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
	const base = (p) => p.slice(p.lastIndexOf('/') + 1);
	function el(tag, attrs, ...kids) {
		const e = document.createElement(tag);
		for (const k in attrs || {})
			e.setAttribute(k, attrs[k]);
		for (const c of kids)
			e.append(c);
		return e;
	}

	// A frame: [function, file, line, inlined, module].
	const F = D.frames;
	const fname = (f) => F[f][0];
	const fwhere = (f) => (F[f][1] ? base(F[f][1]) + ':' + F[f][2] : F[f][4] || '?');
	// its place for a tooltip: file:line, module, inlined
	const fplace = (f) => esc(F[f][1] ? F[f][1] + ':' + F[f][2] : 'no source line') +
		(F[f][4] ? ' in ' + esc(F[f][4]) : '') + (F[f][3] ? ' <i>[inlined]</i>' : '');

	// ---- stacks --------------------------------------------------------
	const frameCache = new Map();
	// a stack's frames, innermost first, from the "sites" tree
	function framesOf(site) {
		let fr = frameCache.get(site);
		if (fr)
			return fr;
		fr = [];
		for (let s = site; s > 0; s = D.sites[2 * (s - 1)])
			fr.push(D.sites[2 * (s - 1) + 1]);
		frameCache.set(site, fr);
		return fr;
	}
	const leafName = (site) => { const f = framesOf(site); return f.length ? fname(f[0]) : '(no stack)'; };
	const leafWhere = (site) => { const f = framesOf(site); return f.length ? fwhere(f[0]) : ''; };
	// a whole stack as a list, innermost first
	function stackList(site) {
		const ol = el('ol');
		for (const f of framesOf(site)) {
			const li = el('li', null, fname(f) + ' ');
			li.append(el('span', { class: 'where' }, F[f][1] ? F[f][1] + ':' + F[f][2] :
				'(' + (F[f][4] || 'no module') + ')'));
			if (F[f][3])
				li.append(' ', el('span', { class: 'inl' }, '[inlined]'));
			ol.append(li);
		}
		if (!ol.children.length)
			ol.append(el('li', null, '(no stack)'));
		return ol;
	}

	// ---- flame graph ---------------------------------------------------
	// A flame node of the JSON: [frame, figures (nfig of them), children |
	// merged count]; set(n, a) puts the figures into the tree's node n.
	function toTree(a, nfig, set) {
		const n = { f: a[0] };
		set(n, a);
		if (a[0] === -2) {
			n.name = 'all';
		} else if (a[0] === -1) {
			n.name = '(small frames: ' + a[nfig + 1] + ')';
			n.merged = a[nfig + 1];
		} else {
			n.name = fname(a[0]);
		}
		if (Array.isArray(a[nfig + 1]))
			n.children = a[nfig + 1].map((c) => toTree(c, nfig, set));
		return n;
	}

	// A flame graph in element #o.box, with the controls #P-weight,
	// #P-icicle, #P-search, #P-reset and #P-details (P: o.p).  o.weights:
	// [{key, label}]; o.tree(w): the tree to draw; o.tip(d, w), o.label(d,
	// w): a box's tooltip (html) and title; o.fmt(w, v): a value; o.color(d,
	// c): a box's colour (c: the default), optional; o.onWeight(w).
	function flameView(o) {
		const P = (id) => $(o.p + '-' + id);
		let weight = o.weights[0], chart = null;
		function draw() {
			const box = $(o.box);
			if (chart)
				chart.destroy();
			box.textContent = '';
			const tree = o.tree(weight);
			if (!tree.value) {
				box.append(el('p', { class: 'note' }, 'Nothing to show for this weight (' + weight.label + ': 0).'));
				chart = null;
				return;
			}
			const tip = flamegraph.tooltip.defaultFlamegraphTooltip().html((d) => o.tip(d, weight));
			chart = flamegraph.default()
				.width(Math.max(400, box.clientWidth || 1000))
				.cellHeight(18)
				.minFrameSize(1)
				.transitionDuration(250)
				.inverted(P('icicle').checked)
				.sort(false)
				.tooltip(tip)
				.label((d) => o.label(d, weight))
				.setDetailsElement(P('details'))
				.setSearchMatch((d, term) => !!term && d.data.f >= 0 &&
					d.data.name.toLowerCase().includes(term.toLowerCase()))
				.setSearchHandler((res, sum, total) => {
					const q = P('search').value;
					P('details').textContent = res.length ? res.length + ' frames match "' + q + '": ' +
						o.fmt(weight, sum) + ', ' + pct(sum, total) + ' of the total' :
						q ? 'no function matches "' + q + '"' : '';
				});
			if (o.color)
				chart.setColorMapper(o.color);
			d3.select(box).datum(tree).call(chart);
			const term = P('search').value.trim();
			if (term)
				chart.search(term);
		}
		const sel = P('weight');
		for (const w of o.weights)
			sel.append(el('option', { value: w.key }, w.label));
		sel.addEventListener('change', () => {
			weight = o.weights.find((w) => w.key === sel.value);
			if (o.onWeight)
				o.onWeight(weight);
			draw();
		});
		P('icicle').addEventListener('change', draw);
		P('reset').addEventListener('click', () => chart && chart.resetZoom());
		P('search').addEventListener('input', () => {
			if (!chart)
				return;
			const term = P('search').value.trim();
			if (term)
				chart.search(term);
			else
				chart.clear();
		});
		draw();
		return { draw: draw, weight: () => weight };
	}

	return { D, $, num, human, bytes, dur, pct, esc, base, el, F, fname, fwhere, fplace, framesOf, leafName,
		leafWhere, stackList, toTree, flameView };
})();
