// The HTML report's page script (html_report.cpp embeds it after Chart.js): draws every table and chart from the
// JSON block #loom-data. At the end it records what it drew in #loom-render-status (data-charts: charts made,
// data-nonempty: charts whose canvas has drawn pixels, data-errors: errors and console.error calls seen), which
// the browser test reads. Layout of the data: docs/report.md.
(function () {
  'use strict';
  const charts = [];
  const root = document.getElementById('report');
  const palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7',
                   '#9c755f', '#bab0ac', '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#17becf'];
  const colour = (i) => palette[i % palette.length];
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of [].concat(children || [])) {
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }
  function section(title, note) {
    root.appendChild(el('h2', {}, title));
    if (note) root.appendChild(el('p', {class: 'note'}, note));
  }
  const fmt = (v, digits) =>
    (v === null || v === undefined) ? '' : Number(v).toFixed(digits === undefined ? 2 : digits);
  function table(header, rows, numericFrom) {
    const t = el('table');
    t.appendChild(el('tr', {}, header.map((h) => el('th', {}, String(h)))));
    for (const row of rows) {
      t.appendChild(el('tr', {}, row.map((c, i) => {
        const text = c === null || c === undefined ? '' : String(c);
        return el('td', {class: text === '' ? 'empty' : (i >= numericFrom ? 'num' : '')}, text);
      })));
    }
    return t;
  }
  function chart(parent, config, small) {
    const box = el('div', {class: small ? 'chart small' : 'chart'});
    const canvas = el('canvas');
    box.appendChild(canvas);
    parent.appendChild(box);
    charts.push(new Chart(canvas, config));
  }
  const axisTitle = (text) => ({display: true, text: text});

  function render() {
    const data = JSON.parse(document.getElementById('loom-data').textContent);
    const methods = data.methods;
    // Identity of the run(s).
    section(data.runs.length > 1 ? 'Runs compared' : 'Run');
    root.appendChild(table(['run', 'job', 'model', 'commit', 'date', 'machine', 'loom_mpi', 'rows', 'failed', 'file'],
      data.runs.map((r, i) => [r.label || String(i + 1), r.job, r.model, r.commit, r.date, r.machine, r.version,
                               r.rows, r.failed]
        .concat([r.file])), 7));

    // Scores: benchmark × method, capability × method, overall.
    section('Scores by method', 'Percent. Benchmark = task scores weighted by samples; capability = mean of its ' +
            'benchmarks; overall = mean of all benchmarks (LOOM-Scope).');
    const benchmarks = [...new Set(methods.flatMap((m) => Object.keys(m.benchmarks)))].sort();
    const capabilities = [...new Set(methods.flatMap((m) => Object.keys(m.capabilities)))].sort();
    const rows = [];
    for (const b of benchmarks) {
      rows.push(['benchmark', b].concat(methods.map((m) => m.benchmarks[b] ? fmt(m.benchmarks[b].score) : '')));
    }
    for (const c of capabilities) rows.push(['capability', c].concat(methods.map((m) => fmt(m.capabilities[c]))));
    rows.push(['overall', ''].concat(methods.map((m) => fmt(m.overall))));
    rows.push(['samples', ''].concat(methods.map((m) => m.samples)));
    rows.push(['failed', ''].concat(methods.map((m) => m.failed)));
    root.appendChild(table(['level', 'name'].concat(methods.map((m) => m.label)), rows, 2));

    // Task × length.
    section('Scores by task and length', 'Percent; columns are target lengths (synthetic data) or context-length ' +
            'buckets (natural data).');
    root.appendChild(table(['method', 'benchmark', 'task'].concat(data.length_columns, ['avg', 'n', 'failed']),
      data.tasks.map((t) => [t.method, t.benchmark, t.task]
        .concat(data.length_columns.map((c) => fmt(t.lengths[c])), [fmt(t.score), t.samples, t.failed])), 3));

    // NIAH heatmaps: a stacked bar per length, one segment per depth, coloured by score.
    if (data.heatmaps.length) {
      section('Needle in a haystack: depth × length', 'Colour: score (red 0 → green 100); each cell is the mean ' +
              'over its samples.');
      const grid = el('div', {class: 'grid'});
      root.appendChild(grid);
      const heat = (score) => `hsl(${Math.round(1.2 * score)}, 70%, 50%)`;
      for (const h of data.heatmaps) {
        const score = {};
        for (const c of h.cells) score[c.length + '|' + c.depth] = c;
        const datasets = h.depths.map((depth) => ({
          label: `depth ${depth}%`,
          data: h.lengths.map(() => 1),
          backgroundColor: h.lengths.map((l) => score[l + '|' + depth] ? heat(score[l + '|' + depth].score) : '#eee'),
          borderColor: '#fff', borderWidth: 1, barPercentage: 1, categoryPercentage: 1,
          scores: h.lengths.map((l) => score[l + '|' + depth] ? score[l + '|' + depth].score : null),
        }));
        chart(grid, {type: 'bar', data: {labels: h.lengths, datasets: datasets}, options: {
          plugins: {title: {display: true, text: `${h.benchmark} — ${h.method}`}, legend: {display: false},
                    tooltip: {callbacks: {
                      label: (ctx) => `${ctx.dataset.label}: ${fmt(ctx.dataset.scores[ctx.dataIndex])}`}}},
          scales: {x: {stacked: true, title: axisTitle('context length')},
                   y: {stacked: true, min: 0, max: h.depths.length, title: axisTitle('needle depth (%)'),
                       afterBuildTicks: (axis) => { axis.ticks = h.depths.map((d, i) => ({value: i + 0.5})); },
                       ticks: {callback: (v, i) => h.depths[i]}}}}});
      }
    }

    // Score vs context length per benchmark, one line per method.
    if (data.curves.length) {
      section('Score vs context length',
              'Benchmarks with synthetic target lengths (RULER, Counting_Stars, babilong, ...).');
      const grid = el('div', {class: 'grid'});
      root.appendChild(grid);
      for (const b of [...new Set(data.curves.map((c) => c.benchmark))].sort()) {
        const curves = data.curves.filter((c) => c.benchmark === b);
        const lengths = [...new Map(curves.flatMap((c) => c.points).sort((p, q) => p.order - q.order)
          .map((p) => [p.length, p])).keys()];
        chart(grid, {type: 'line', data: {labels: lengths, datasets: curves.map((c, i) => {
          const at = Object.fromEntries(c.points.map((p) => [p.length, p.score]));
          return {label: c.method, data: lengths.map((l) => at[l] === undefined ? null : at[l]),
                  borderColor: colour(i), backgroundColor: colour(i), spanGaps: true};
        })}, options: {plugins: {title: {display: true, text: b}},
          scales: {x: {title: axisTitle('target context length')},
                   y: {min: 0, max: 100, title: axisTitle('score (%)')}}}});
      }
    }

    // Capability radar per method (a radar needs three axes: with fewer capabilities, a bar per capability).
    const radar = capabilities.length >= 3;
    section('Capabilities', 'One chart per method; ' + (radar ? 'axes are the capabilities of the run (percent).'
      : `this run has ${capabilities.length} capabilit${capabilities.length === 1 ? 'y' : 'ies'}, too few for a ` +
        'radar: one bar each (percent).'));
    {
      const grid = el('div', {class: 'grid'});
      root.appendChild(grid);
      methods.forEach((m, i) => {
        const values = capabilities.map((c) => m.capabilities[c] === undefined ? null : m.capabilities[c]);
        const options = {plugins: {title: {display: true, text: m.label}, legend: {display: false}},
                         scales: radar ? {r: {min: 0, max: 100}} : {y: {min: 0, max: 100}}};
        chart(grid, {type: radar ? 'radar' : 'bar', data: {labels: capabilities, datasets: [{label: m.label,
          data: values, borderColor: colour(i), backgroundColor: colour(i) + (radar ? '33' : '')}]}, options}, true);
      });
    }

    // Pareto: score vs KV kept, one line per method name across its ratios (kvpress leaderboard style).
    {
      const hasFull = methods.some((m) => m.method === 'full');
      const xName = hasFull ? 'kv_vs_full' : 'kv_bytes_per_token';
      const xLabel = hasFull ? 'KV bytes × full' : 'KV bytes per prompt token';
      section('Score vs KV cache kept', `x: ${xLabel} (cost columns, rows that generated); y: overall score. ` +
              'One line per method name across its compression ratios.');
      const groups = new Map();
      for (const m of methods) {
        if (!m.generated) continue;
        const key = (data.runs.length > 1 ? m.label.split(': ')[0] + ': ' : '') + m.name;
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push({x: m.cost[xName], y: m.overall, label: m.label});
      }
      const grid = el('div', {class: 'grid'});
      root.appendChild(grid);
      chart(grid, {type: 'scatter', data: {datasets: [...groups.entries()].map(([name, points], i) => ({
        label: name, data: points.sort((p, q) => p.x - q.x), showLine: true, borderColor: colour(i),
        backgroundColor: colour(i), pointRadius: 5, clip: false}))},
        options: {plugins: {title: {display: true, text: 'Score vs KV kept'},
                            tooltip: {callbacks: {
                              label: (ctx) => `${ctx.raw.label}: ${fmt(ctx.raw.y)} @ ${fmt(ctx.raw.x, 3)}`}}},
                  scales: {x: {min: 0, title: axisTitle(xLabel)},
                           y: {min: 0, max: 100, title: axisTitle('overall score (%)')}}}});
    }

    // Cost panel.
    section('Cost by method', 'Over rows that generated; peak memory includes the weights.');
    {
      const shown = data.cost_figures.filter((f) => ['prefill_seconds', 'decode_ms_per_token', 'kv_bytes_per_token',
                                                     'peak_memory_bytes'].includes(f.name));
      const used = methods.filter((m) => m.generated);
      const grid = el('div', {class: 'grid'});
      root.appendChild(grid);
      for (const f of shown) {
        chart(grid, {type: 'bar', data: {labels: used.map((m) => m.label), datasets: [{label: f.label,
          data: used.map((m) => m.cost[f.name] / f.divisor), backgroundColor: used.map((m, i) => colour(i))}]},
          options: {plugins: {title: {display: true, text: f.label}, legend: {display: false}},
                    scales: {y: {beginAtZero: true}}}}, true);
      }
      const hasFull = methods.some((m) => m.method === 'full');
      const figures = data.cost_figures.filter((f) => hasFull || !f.vs_full);
      const costRows = [['generated rows'].concat(methods.map((m) => m.generated))];
      for (const f of figures) {
        const cells = methods.map((m) => m.generated ? fmt(m.cost[f.name] / f.divisor, f.precision) : '');
        costRows.push([f.label].concat(cells));
      }
      root.appendChild(table(['cost'].concat(methods.map((m) => m.label)), costRows, 1));
    }

    // Failures with reasons.
    section('Failures', data.failures.length ? `${data.failures.length} failed rows (scored 0).` : 'None.');
    if (data.failures.length) {
      root.appendChild(table(['method', 'benchmark', 'task', 'sample', 'reason'],
        data.failures.map((f) => [f.method, f.benchmark, f.task, f.sample_key, f.error]), 5));
    }

  }

  // What was drawn, for the browser test.
  function drawn(c) {
    const canvas = c.canvas;
    if (!canvas.width || !canvas.height) return false;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
    return false;
  }
  try {
    render();
  } catch (e) {
    window.loomErrors.push('report script: ' + e.message);
  }
  const status = el('div', {id: 'loom-render-status', 'data-charts': charts.length,
    'data-nonempty': charts.filter(drawn).length, 'data-errors': window.loomErrors.length});
  status.textContent = window.loomErrors.join('\n');
  document.body.appendChild(status);
})();
