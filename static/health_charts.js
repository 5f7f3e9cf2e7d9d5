/* One container's health charts (templates/health/container_charts.html), drawn with the vendored uPlot.
 *
 * Data comes from the history endpoint, GET <data-metrics-url>?range=15m|1h|24h|7d, whose points are
 * [t, cpu_pct, mem_bytes, mem_pct, rx_bytes, tx_bytes] with rx/tx cumulative counters. Network rates
 * are taken here as differences over time; a negative difference (the counters restarted with the
 * container) or a missing value leaves a gap rather than a made-up spike. The 15 min range refreshes
 * every 5 s while the tab is visible; each chart's latest values are also written out as text.
 *
 * The time axis always spans exactly the range asked for, [from, to] as the endpoint states them, so
 * an hour with five minutes of data reads as an hour with a gap. A null point is put wherever two
 * samples are further apart than a few sampling intervals, so the lines break there instead of
 * bridging the time nothing was recorded. Each chart follows its figure's width (ResizeObserver);
 * the axis bounds and the number of gaps drawn are written to data-x-min, data-x-max and data-gaps.
 */
(function () {
  "use strict";

  const root = document.getElementById("health-charts");
  if (!root || typeof uPlot === "undefined") return;

  const REFRESH_MS = 5000;
  const LIVE_RANGE = "15m";
  const warningPct = parseFloat(root.dataset.warningPct);
  const criticalPct = parseFloat(root.dataset.criticalPct);
  const memoryLimit = parseFloat(root.dataset.memoryLimit) || null;
  const intervalS = parseFloat(root.dataset.intervalS) || 5;
  // Beyond this spacing two points are not neighbours: raw samples, 1-minute and 1-hour averages.
  const GAP_S = { raw: intervalS * 3, "1m": 150, "1h": 9000 };
  const status = root.querySelector(".chart-status");
  let xFrom = null;
  let xTo = null;
  const buttons = document.querySelectorAll("button[data-range]");
  let range = root.dataset.range || LIVE_RANGE;
  let timer = null;
  let request = 0; // answers to an earlier range that arrive late are dropped
  const charts = {};

  const css = getComputedStyle(document.body);
  const muted = css.getPropertyValue("--pico-muted-color").trim() || "#888";
  const gridColor = css.getPropertyValue("--pico-muted-border-color").trim() || "rgba(128,128,128,0.2)";
  const COLORS = { cpu: "#1e88e5", memory: "#8e24aa", rx: "#2e7d32", tx: "#ef6c00", warn: "#b26a00", bad: "#c62828" };

  const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];
  function size(value) {
    if (value == null) return "—";
    let amount = value;
    for (const unit of UNITS) {
      if (Math.abs(amount) < 1024 || unit === UNITS[UNITS.length - 1]) {
        return unit === "B" ? amount.toFixed(0) + " B" : amount.toFixed(1) + " " + unit;
      }
      amount /= 1024;
    }
  }
  /* Axis labels: short, whole numbers from 10 up. */
  function shortSize(value) {
    let amount = value;
    for (const unit of UNITS) {
      if (Math.abs(amount) < 1024 || unit === UNITS[UNITS.length - 1]) {
        return (amount >= 10 || unit === "B" ? amount.toFixed(0) : amount.toFixed(1)) + " " + unit;
      }
      amount /= 1024;
    }
  }
  const pct = (value) => (value == null ? "—" : value.toFixed(1) + " %");
  const rate = (value) => (value == null ? "—" : size(value) + "/s");

  /* Columns for uPlot: x, then one array per series. Rates from consecutive counters. */
  function columns(points, gapS) {
    const t = [], cpu = [], mem = [], memPct = [], rx = [], tx = [];
    let gaps = 0;
    points.forEach((p, i) => {
      if (i > 0 && p[0] - points[i - 1][0] > gapS) {
        // One null point just after the last sample before the gap: uPlot breaks the line there.
        t.push(points[i - 1][0] + gapS / 2);
        for (const column of [cpu, mem, memPct, rx, tx]) column.push(null);
        gaps++;
      }
      t.push(p[0]);
      cpu.push(p[1]);
      mem.push(p[2]);
      memPct.push(p[3]);
      const prev = i > 0 ? points[i - 1] : null;
      rx.push(perSecond(prev, p, 4));
      tx.push(perSecond(prev, p, 5));
    });
    return { t, cpu, mem, memPct, rx, tx, gaps };
  }

  function perSecond(prev, point, index) {
    if (!prev || prev[index] == null || point[index] == null) return null;
    const dt = point[0] - prev[0];
    const delta = point[index] - prev[index];
    if (dt <= 0 || delta < 0) return null; // restarted: the counters began again at zero
    return delta / dt;
  }

  /* A dashed horizontal line at each of ``levels`` ([value, colour]) on the y scale. */
  function levelsPlugin(levels) {
    return {
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.setLineDash([6, 4]);
            ctx.lineWidth = 1.5 * devicePixelRatio;
            for (const [value, colour] of levels()) {
              if (value == null) continue;
              const y = Math.round(u.valToPos(value, "y", true));
              if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
              ctx.strokeStyle = colour;
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  // Byte axes step in binary units (256 KiB, 512 KiB, 1 MiB...), so their labels read as round figures.
  const BYTE_STEPS = [];
  for (let power = 0; power <= 4; power++) {
    for (const m of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]) BYTE_STEPS.push(m * 1024 ** power);
  }

  function axis(format, bytes) {
    return {
      incrs: bytes ? BYTE_STEPS : undefined,
      stroke: muted,
      grid: { stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor, width: 1 },
      size: 80,
      values: format ? (u, splits) => splits.map(format) : undefined,
    };
  }

  function makeChart(name, series, yFormat, yRange, levels, bytes) {
    const figure = root.querySelector(`[data-chart="${name}"]`);
    const plot = figure.querySelector(".plot");
    const opts = {
      width: plotWidth(plot),
      height: 220,
      cursor: { drag: { x: false, y: false } },
      // The x range is the one asked for, never the span of the data.
      scales: {
        x: { time: true, range: (u, min, max) => (xFrom == null ? [min, max] : [xFrom, xTo]) },
        y: { range: yRange },
      },
      axes: [{ stroke: muted, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } }, axis(yFormat, bytes)],
      series: [{}, ...series],
      plugins: levels ? [levelsPlugin(levels)] : [],
      // uPlot settles its scales after setData returns: the axis actually drawn is known here.
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== "x" || name !== "cpu") return;
            root.dataset.xMin = String(u.scales.x.min);
            root.dataset.xMax = String(u.scales.x.max);
          },
        ],
      },
    };
    const empty = [[], ...series.map(() => [])];
    return { plot: new uPlot(opts, empty, plot), element: plot, figure };
  }

  /* The width the figure gives its plot; small screens get a narrower chart, never a zero-width one. */
  function plotWidth(element) {
    return Math.max(Math.floor(element.clientWidth), 200);
  }

  function maxOf(values, floor) {
    let max = floor;
    for (const v of values) if (v != null && v > max) max = v;
    return max;
  }

  function build() {
    charts.cpu = makeChart(
      "cpu",
      [{ label: "CPU", stroke: COLORS.cpu, fill: COLORS.cpu + "22", width: 2, value: (u, v) => pct(v) }],
      (v) => v + " %",
      // 0-100 % of the limit, stretched when a burst goes over it.
      (u, min, max) => [0, Math.max(100, max * 1.05)],
      () => [[warningPct, COLORS.warn], [criticalPct, COLORS.bad]],
    );
    charts.memory = makeChart(
      "memory",
      [{ label: "Memory", stroke: COLORS.memory, fill: COLORS.memory + "22", width: 2, value: (u, v) => size(v) }],
      shortSize,
      // Room above the line; the limit comes into view once use is within half of it.
      (u, min, max) => {
        const top = Math.max(max * 1.3, 1024 * 1024);
        return [0, memoryLimit && memoryLimit <= top * 2 ? Math.max(memoryLimit * 1.05, top) : top];
      },
      () => [[memoryLimit, COLORS.bad]],
      true,
    );
    charts.network = makeChart(
      "network",
      [
        { label: "rx", stroke: COLORS.rx, width: 2, value: (u, v) => rate(v) },
        { label: "tx", stroke: COLORS.tx, width: 2, value: (u, v) => rate(v) },
      ],
      (v) => shortSize(v) + "/s",
      (u, min, max) => [0, Math.max(max * 1.1, 1024)],
      null,
      true,
    );
  }

  function lastValue(values) {
    for (let i = values.length - 1; i >= 0; i--) if (values[i] != null) return values[i];
    return null;
  }

  function setLatest(name, text) {
    const el = root.querySelector(`[data-latest="${name}"]`);
    if (el) el.textContent = text;
  }

  function show(body) {
    xFrom = Date.parse(body.from) / 1000;
    xTo = Date.parse(body.to) / 1000;
    const c = columns(body.points, GAP_S[body.resolution] || intervalS * 3);
    charts.cpu.plot.setData([c.t, c.cpu]);
    charts.memory.plot.setData([c.t, c.mem]);
    charts.network.plot.setData([c.t, c.rx, c.tx]);
    root.dataset.gaps = String(c.gaps);
    const memPct = lastValue(c.memPct);
    setLatest("cpu", `${pct(lastValue(c.cpu))}, highest in range ${pct(maxOf(c.cpu, 0))}`);
    setLatest("memory", size(lastValue(c.mem)) + (memPct == null ? "" : ` (${pct(memPct)} of its limit)`));
    setLatest("network", `rx ${rate(lastValue(c.rx))}, tx ${rate(lastValue(c.tx))}`);
    const label = { "15m": "15 minutes", "1h": "hour", "24h": "24 hours", "7d": "7 days" }[body.range];
    const [averages, bucket] = { "1m": ["1-minute", "minute"], "1h": ["hourly", "hour"] }[body.resolution] || [];
    if (body.points.length) status.textContent = "";
    else if (bucket)
      status.textContent =
        `No ${averages} averages for the last ${label} yet: they are built from the samples as each ${bucket} ` +
        "completes. The 15 min and 1 h ranges show the samples themselves.";
    else status.textContent = `No samples in the last ${label}: the sampler records one every few seconds while the container exists.`;
  }

  async function load() {
    const mine = ++request;
    root.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(`${root.dataset.metricsUrl}?range=${encodeURIComponent(range)}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (mine !== request) return;
      if (response.status === 401 || response.status === 403) {
        window.location.reload(); // the session ended: let the login page take over
        return;
      }
      if (response.status === 404) {
        clearInterval(timer); // removed while we watched: nothing more will come
        status.textContent = "This container no longer exists; the charts show its last figures.";
        return;
      }
      if (!response.ok) throw new Error(`the history endpoint answered ${response.status}`);
      show(await response.json());
      document.dispatchEvent(new CustomEvent("console:contact"));
    } catch (error) {
      if (error instanceof TypeError) document.dispatchEvent(new CustomEvent("console:contact-lost"));
      if (mine === request) status.textContent = `Could not load the figures: ${error.message}. Retrying.`;
    } finally {
      if (mine === request) root.removeAttribute("aria-busy");
    }
  }

  function schedule() {
    clearInterval(timer);
    timer = null;
    if (range === LIVE_RANGE) {
      timer = setInterval(() => {
        if (!document.hidden) load();
      }, REFRESH_MS);
    }
  }

  function choose(name) {
    range = name;
    root.dataset.range = name;
    buttons.forEach((b) => {
      const on = b.dataset.range === name;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.classList.toggle("outline", !on);
    });
    load();
    schedule();
  }

  buttons.forEach((b) => b.addEventListener("click", () => choose(b.dataset.range)));

  build();

  // Each chart follows its own box: window resizes, a narrower layout, a sidebar opening. The plot
  // element is a block whose width its figure sets, so drawing into it never feeds back a new size.
  const observer = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const chart = Object.values(charts).find((c) => c.element === entry.target);
      const width = plotWidth(entry.target);
      if (chart && chart.plot.width !== width) chart.plot.setSize({ width: width, height: 220 });
    }
  });
  for (const chart of Object.values(charts)) observer.observe(chart.element);

  choose(range);
})();
