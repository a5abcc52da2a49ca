// The web timeline page: asks the API (/v1/series, /v1/explain, /v1/diff) and draws its JSON
// with uPlot (vendored). Plain script, no build step; every URL is relative to the page.
(function () {
  "use strict";

  const ZONE = "America/New_York"; // US instruments switch at 12:01 a.m. Eastern
  const COLOURS = ["#1f5fbf", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#5c940d"];
  const MAX_KNOWN = 6;
  const LABEL_ROWS = 3;
  const LABEL_ROW_HEIGHT = 15; // CSS pixels per row of change labels above the plot

  const $ = (id) => document.getElementById(id);
  const state = {
    origins: [], // {code, name}
    question: null, // {origin, hts, from, to, known: [string|null], mfn}
    series: [], // the API's Series objects, one per known date
    changes: [], // merged change points: {t, date, number, instruments, perSeries}
    chart: null,
    selected: null, // the entered date (YYYY-MM-DD) whose layers are shown
  };

  // ------------------------------------------------------------------ small helpers

  const dayFormat = new Intl.DateTimeFormat("en-CA", {
    timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit",
  });
  /** The US Eastern calendar date (YYYY-MM-DD) of an instant (seconds or a Date). */
  function easternDate(when) {
    const date = when instanceof Date ? when : new Date(when * 1000);
    return dayFormat.format(date);
  }
  const seconds = (iso) => Date.parse(iso) / 1000;
  const percent = (v) => (v === null || v === undefined ? "—" : `${Number(v)}%`);
  /** An additional duty as answered: null means it depends on facts not given. */
  const duty = (v) => (v === null ? "depends on facts" : percent(v));

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** A link to a source, named by its instrument (or by its title, where the instrument is
   *  already shown beside it). */
  function sourceLink(source, byTitle) {
    const label = (byTitle ? source.title : source.instrument) || source.title || source.url;
    const title = [source.title, source.federal_register].filter(Boolean).join(" — ");
    return el("a", { href: source.url, target: "_blank", rel: "noopener noreferrer",
                     class: "source-link", title }, label);
  }

  /** A short name for the instrument behind an event: its first source's instrument. */
  function instrumentOf(event) {
    const withInstrument = (event.sources || []).find((s) => s.instrument);
    return withInstrument ? withInstrument.instrument : event.id;
  }
  function shortInstrument(text) {
    const short = text
      .replace(/Executive Order/gi, "EO")
      .replace(/Proclamation/gi, "Procl.")
      .replace(/\s*\(.*?\)\s*/g, " ")
      .split(/[;,]/)[0]
      .trim();
    return short.length > 26 ? `${short.slice(0, 25)}…` : short;
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }
  function setStatus(message) {
    $("status").textContent = message || "";
  }

  /** GET a JSON answer of the API; a problem response becomes an Error with its detail. */
  async function getJson(path, params) {
    const query = new URLSearchParams();
    for (const [key, value] of params) {
      if (value !== null && value !== undefined && value !== "") query.append(key, value);
    }
    const response = await fetch(`${path}?${query}`, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const fields = body && body["invalid-params"]
        ? body["invalid-params"].map((p) => `${p.name}: ${p.reason}`).join("; ") : "";
      const detail = body && (body.detail || body.title);
      throw new Error(`${path}: ${detail || fields || response.statusText}`);
    }
    return body;
  }

  // ------------------------------------------------------------------ the question

  function resolveOrigin(text) {
    const given = text.trim();
    const coded = given.match(/\(([A-Za-z]{2})\)\s*$/);
    if (coded) return coded[1].toUpperCase();
    if (/^[A-Za-z]{2}$/.test(given)) return given.toUpperCase();
    const lower = given.toLowerCase();
    const exact = state.origins.find((o) => o.name.toLowerCase() === lower);
    if (exact) return exact.code;
    const starts = state.origins.filter((o) => o.name.toLowerCase().startsWith(lower));
    if (starts.length === 1) return starts[0].code;
    throw new Error(`origin "${given}": name a country or give its ISO code (BR)`);
  }
  function originName(code) {
    const found = state.origins.find((o) => o.code === code);
    return found ? found.name : code;
  }

  function knownDates(text) {
    const parts = text.split(",").map((p) => p.trim()).filter(Boolean);
    const dates = (parts.length ? parts : ["now"]).map((p) => (p.toLowerCase() === "now" ? null : p));
    if (dates.length > MAX_KNOWN) throw new Error(`give at most ${MAX_KNOWN} known dates`);
    return dates;
  }

  function readQuestion() {
    const mfnText = $("mfn").value.trim();
    return {
      origin: resolveOrigin($("origin").value),
      hts: $("hts").value.trim(),
      from: $("from").value,
      to: $("to").value,
      known: knownDates($("known").value),
      mfn: mfnText === "" ? null : Number(mfnText),
    };
  }

  function remember(question) {
    const params = new URLSearchParams({
      origin: question.origin, hts: question.hts, from: question.from, to: question.to,
      known: question.known.map((k) => k || "now").join(","),
    });
    if (question.mfn !== null) params.set("mfn", String(question.mfn));
    history.replaceState(null, "", `?${params}`);
  }

  async function show(event) {
    if (event) event.preventDefault();
    showError("");
    let question;
    try {
      question = readQuestion();
    } catch (error) {
      showError(error.message);
      return;
    }
    $("show").disabled = true;
    setStatus("Asking /v1/series…");
    try {
      // One question per known date, so that any number of versions can be overlaid.
      const answers = await Promise.all(question.known.map((known) => getJson("v1/series", [
        ["origin", question.origin], ["hts", question.hts], ["from", question.from],
        ["to", question.to], ["known", known], ["mfn", question.mfn],
      ])));
      state.question = question;
      state.series = answers.map((answer, i) => ({
        ...answer.series[0], label: `known ${question.known[i] || "now"}` }));
      remember(question);
      draw();
      const changed = state.changes.find((c) => c.t > seconds(state.series[0].start));
      await selectDate(changed ? changed.date : question.from);
      prefillDiff();
      setStatus(`${state.series.length} version(s), ${state.changes.length} change(s).`);
    } catch (error) {
      showError(error.message);
      setStatus("");
    } finally {
      $("show").disabled = false;
    }
  }

  // ------------------------------------------------------------------ the chart

  /** The change points of every series, merged by instant and numbered in time order. */
  function mergeChanges(seriesList) {
    const byTime = new Map();
    seriesList.forEach((series, index) => {
      series.steps.slice(1).forEach((step, i) => {
        const t = seconds(step.start);
        const before = series.steps[i];
        let change = byTime.get(t);
        if (!change) {
          change = { t, date: easternDate(t), instruments: new Map(), perSeries: [] };
          byTime.set(t, change);
        }
        for (const ev of step.events) {
          if (!change.instruments.has(instrumentOf(ev))) change.instruments.set(instrumentOf(ev), ev);
        }
        change.perSeries.push({ index, before, step });
      });
    });
    const changes = [...byTime.values()].sort((a, b) => a.t - b.t);
    changes.forEach((c, i) => { c.number = i + 1; });
    return changes;
  }

  function valueAt(series, t) {
    const step = series.steps.find((s) => seconds(s.start) <= t && (s.end === null || t < seconds(s.end)));
    return step ? step.additional : null;
  }

  function chartData() {
    const first = state.series[0];
    const end = seconds(first.end);
    const xs = new Set([seconds(first.start), end]);
    for (const series of state.series) for (const step of series.steps) xs.add(seconds(step.start));
    const x = [...xs].filter((t) => t <= end).sort((a, b) => a - b);
    const columns = [x];
    for (const series of state.series) {
      columns.push(x.map((t) => valueAt(series, t)));
    }
    if (state.question.mfn !== null) {
      for (const series of state.series) {
        columns.push(x.map((t) => {
          const v = valueAt(series, t);
          return v === null ? null : Number(v) + Number(state.question.mfn);
        }));
      }
    }
    return columns;
  }

  function seriesOptions() {
    const stepped = uPlot.paths.stepped({ align: 1 });
    const options = [{ label: "entered (US Eastern)", value: (u, t) => (t === null ? "—" : easternDate(t)) }];
    state.series.forEach((series, i) => options.push({
      // Earlier versions wider and paler, so that a later line drawn over them stays visible.
      label: `additional, ${series.label}`, width: 2 + 3 * (state.series.length - 1 - i),
      stroke: i === state.series.length - 1 ? COLOURS[i % COLOURS.length] : `${COLOURS[i % COLOURS.length]}88`,
      paths: stepped, points: { show: false }, value: (u, v) => percent(v),
    }));
    if (state.question.mfn !== null) {
      state.series.forEach((series, i) => options.push({
        label: `total with MFN ${state.question.mfn}%, ${series.label}`,
        stroke: COLOURS[i % COLOURS.length], width: 1.5, dash: [6, 4], paths: stepped,
        points: { show: false }, value: (u, v) => percent(v),
      }));
    }
    return options;
  }

  function draw() {
    const host = $("chart");
    if (state.chart) state.chart.destroy();
    host.replaceChildren();
    state.changes = mergeChanges(state.series);
    const q = state.question;
    $("chart-title").textContent =
      `Additional duty on HTS ${state.series[0].hts} from ${originName(q.origin)} (${q.origin})`;
    $("chart-section").hidden = false;
    const options = {
      width: Math.max(480, host.clientWidth || 900),
      height: 380,
      padding: [LABEL_ROWS * LABEL_ROW_HEIGHT + 8, 16, 0, 0],
      tzDate: (t) => uPlot.tzDate(new Date(t * 1000), ZONE),
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(10, Math.ceil(((max || 0) + 5) / 10) * 10)] } },
      axes: [{}, { label: "duty, % ad valorem", values: (u, ticks) => ticks.map((v) => `${v}%`), size: 60 }],
      series: seriesOptions(),
      cursor: { drag: { x: false, y: false } },
      hooks: { draw: [drawAlternatives, drawChanges, drawSelected] },
    };
    state.chart = new uPlot(options, chartData(), host);
    state.chart.over.addEventListener("click", () => {
      const idx = state.chart.cursor.idx;
      const left = state.chart.cursor.left;
      if (idx === null || idx === undefined || left === null || left < 0) return;
      selectDate(easternDate(state.chart.posToVal(left, "x")));
    });
    renderChanges();
  }

  /** Where the answer depends on facts not given: a shaded box over the alternatives' range. */
  function drawAlternatives(u) {
    const ctx = u.ctx;
    const ratio = window.devicePixelRatio || 1;
    const end = seconds(state.series[0].end);
    ctx.save();
    state.series.forEach((series, i) => {
      for (const step of series.steps) {
        const values = (step.alternatives || []).filter((v) => v !== null).map(Number);
        if (step.additional !== null || values.length === 0) continue;
        const x0 = u.valToPos(seconds(step.start), "x", true);
        const x1 = u.valToPos(step.end === null ? end : Math.min(seconds(step.end), end), "x", true);
        const yTop = u.valToPos(Math.max(...values), "y", true);
        const yBottom = u.valToPos(Math.min(...values), "y", true);
        const colour = COLOURS[i % COLOURS.length];
        ctx.fillStyle = `${colour}22`;
        ctx.strokeStyle = colour;
        ctx.setLineDash([4 * ratio, 3 * ratio]);
        ctx.lineWidth = ratio;
        ctx.fillRect(x0, yTop - 2 * ratio, x1 - x0, yBottom - yTop + 4 * ratio);
        ctx.strokeRect(x0, yTop - 2 * ratio, x1 - x0, yBottom - yTop + 4 * ratio);
        if (x1 - x0 > 110 * ratio) {
          ctx.setLineDash([]);
          ctx.textAlign = "left";
          ctx.fillStyle = colour;
          ctx.font = `${11 * ratio}px system-ui, sans-serif`;
          ctx.textBaseline = "bottom";
          ctx.fillText(`depends on facts: ${values.join(" or ")}%`, x0 + 4 * ratio, yTop - 4 * ratio);
        }
      }
    });
    ctx.restore();
  }

  /** A dashed line at each change with its number and instrument above the plot. A label
   *  goes in the first row where it does not overlap the label before it; where none has
   *  room, its number alone, moved right of the nearest row's last label. Lines first, then
   *  labels on white boxes, so that no line crosses a label. */
  function drawChanges(u) {
    const ctx = u.ctx;
    const ratio = window.devicePixelRatio || 1;
    const top = u.bbox.top;
    const rightLimit = u.bbox.left + u.bbox.width + 14 * ratio;
    const rowsEnd = new Array(LABEL_ROWS).fill(-Infinity);
    const gap = 4 * ratio;
    ctx.save();
    ctx.font = `${11 * ratio}px system-ui, sans-serif`;
    ctx.textBaseline = "middle";
    ctx.textAlign = "left";
    const placed = [];
    for (const change of state.changes) {
      const x = u.valToPos(change.t, "x", true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      const names = [...change.instruments.keys()].map(shortInstrument);
      const full = `${change.number} ${names.join(", ")}`.trim();
      let label = null;
      for (const text of [full.length > 34 ? `${full.slice(0, 33)}…` : full, String(change.number)]) {
        const width = ctx.measureText(text).width + 10 * ratio;
        const left = Math.min(x, rightLimit - width);
        const row = rowsEnd.findIndex((end) => left > end + gap);
        if (row >= 0) {
          label = { text, width, left, row };
          break;
        }
      }
      if (!label) {
        const text = String(change.number);
        const width = ctx.measureText(text).width + 10 * ratio;
        const row = rowsEnd.indexOf(Math.min(...rowsEnd));
        label = { text, width, left: rowsEnd[row] + gap, row };
      }
      rowsEnd[label.row] = label.left + label.width;
      // Row 0 is the one nearest the plot.
      placed.push({ x, ...label, y: top - (label.row + 1) * LABEL_ROW_HEIGHT * ratio });
    }
    ctx.lineWidth = ratio;
    for (const { x, left, y } of placed) {
      ctx.strokeStyle = "#8a919c";
      ctx.setLineDash([3 * ratio, 3 * ratio]);
      ctx.beginPath();
      ctx.moveTo(x, top - 4 * ratio);
      ctx.lineTo(x, top + u.bbox.height);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.strokeStyle = "#c3c8cf";
      ctx.beginPath();
      ctx.moveTo(Math.max(x, Math.min(left + 4 * ratio, x + 40 * ratio)), y + 6 * ratio);
      ctx.lineTo(x, top - 4 * ratio);
      ctx.stroke();
    }
    for (const { text, width, left, y } of placed) {
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(left, y - 7 * ratio, width, 14 * ratio);
      ctx.fillStyle = "#1d2430";
      ctx.fillText(text, left + 5 * ratio, y);
    }
    ctx.restore();
  }

  function drawSelected(u) {
    if (!state.selected) return;
    const t = seconds(`${state.selected}T12:00:00Z`);
    const x = u.valToPos(t, "x", true);
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
    const ctx = u.ctx;
    const ratio = window.devicePixelRatio || 1;
    ctx.save();
    ctx.strokeStyle = "#e8a200";
    ctx.lineWidth = 2 * ratio;
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.restore();
  }

  // ------------------------------------------------------------------ the list of changes

  function renderChanges() {
    const list = $("changes");
    list.replaceChildren();
    for (const change of state.changes) {
      const rates = change.perSeries.map(({ index, before, step }) => el("div", { class: "rates" },
        el("span", { class: "known-tags" },
           el("span", { style: `background:${COLOURS[index % COLOURS.length]}` }, state.series[index].label)),
        ` ${duty(before.additional)} → ${step.additional === null
          ? `depends on facts (${step.alternatives.map(percent).join(" or ")})` : percent(step.additional)}`));
      const moved = [...new Set(change.perSeries.flatMap(({ step }) => step.layers))];
      const instruments = [...change.instruments.entries()].map(([name, event]) => el("div",
        { class: "instrument" }, `${name} `,
        el("span", { class: "moved" }, `(${event.type}, known ${event.known})`), " ",
        (event.sources || []).slice(0, 2).map((s, i) => [i ? " · " : "", sourceLink(s, true)])));
      list.append(el("li", { "data-date": change.date, "data-t": change.t, class: "change" },
        el("span", { class: "marker" }, change.number),
        el("button", { type: "button", class: "date-link", onclick: () => selectDate(change.date) },
           change.date),
        el("div", { class: "change-body" }, rates,
           el("div", { class: "moved" }, moved.join("; ")), instruments)));
    }
    $("changes-section").hidden = state.changes.length === 0;
  }

  // ------------------------------------------------------------------ layers at a date

  function fillKnownChoice() {
    const select = $("layers-known");
    const previous = select.value;
    select.replaceChildren(...state.series.map((series, i) =>
      el("option", { value: String(i) }, series.label)));
    select.value = previous && Number(previous) < state.series.length
      ? previous : String(state.series.length - 1);
  }

  async function selectDate(date) {
    state.selected = date;
    $("entered").value = date;
    for (const item of document.querySelectorAll("#changes li")) {
      item.classList.toggle("selected", item.dataset.date === date);
    }
    if (state.chart) state.chart.redraw(false, false);
    fillKnownChoice();
    await showLayers();
  }

  async function showLayers() {
    const q = state.question;
    if (!q || !state.selected) return;
    const index = Number($("layers-known").value || state.series.length - 1);
    const known = q.known[index];
    showError("");
    let answer;
    try {
      answer = await getJson("v1/explain", [["origin", q.origin], ["hts", q.hts],
        ["entered", state.selected], ["known", known], ["mfn", q.mfn]]);
    } catch (error) {
      showError(error.message);
      return;
    }
    $("layers-title").textContent =
      `Layers on ${state.selected}, ${state.series[index].label}`;
    const total = answer.total === null || answer.total === undefined ? "" : `, total ${percent(answer.total)}`;
    const alternatives = (answer.alternatives || []).map((a) =>
      `${Object.entries(a.assumptions || {}).map(([k, v]) => `${k}=${v}`).join(", ") || "?"}: ${percent(a.additional)}`);
    $("layers-summary").textContent = answer.additional === null
      ? `Additional duty depends on facts not given${alternatives.length ? ` — ${alternatives.join("; ")}` : ""}.`
      : `Additional duty ${percent(answer.additional)}${total}.`;
    const body = $("layers").querySelector("tbody");
    body.replaceChildren(...answer.layers.map((layer) => el("tr",
      { class: layer.applied ? "applied" : "not-applied", "data-measure": layer.measure },
      el("td", {}, el("strong", {}, layer.measure), el("br"), layer.title),
      el("td", {}, layer.status.replace(/_/g, " ")),
      el("td", {}, percent(layer.rate)),
      el("td", {}, layer.rate_rule || "—"),
      el("td", {}, layer.applied ? "yes" : "no"),
      el("td", {}, layer.reason),
      el("td", { class: "sources" }, el("ul", {}, layer.sources.map((s) => el("li", {}, sourceLink(s))))))));
    $("layers-notes").replaceChildren(...(answer.notes || []).map((n) => el("li", {}, n)));
    $("layers-section").hidden = false;
  }

  // ------------------------------------------------------------------ diff

  function prefillDiff() {
    const q = state.question;
    const date = state.selected || q.from;
    $("diff-entered-a").value = date;
    $("diff-entered-b").value = date;
    $("diff-known-a").value = q.known[0] || "now";
    $("diff-known-b").value = q.known[q.known.length - 1] || "now";
    $("diff").replaceChildren();
    $("diff-section").hidden = false;
  }

  const knownParam = (text) => (text.trim() === "" || text.trim().toLowerCase() === "now"
    ? new Date().toISOString() : text.trim());

  async function compare(event) {
    event.preventDefault();
    const q = state.question;
    if (!q) return;
    showError("");
    let diff;
    try {
      diff = await getJson("v1/diff", [
        ["entered", $("diff-entered-a").value], ["entered", $("diff-entered-b").value],
        ["known", knownParam($("diff-known-a").value)], ["known", knownParam($("diff-known-b").value)],
        ["origin", q.origin], ["hts", q.hts]]);
    } catch (error) {
      showError(error.message);
      return;
    }
    const out = $("diff");
    const cells = diff.cells || [];
    out.replaceChildren(
      el("p", {}, ["before", "after"].map((side) => `${side}: entered ` +
        `${easternDate(new Date(diff[side].entered))}, as known at ` +
        `${easternDate(new Date(diff[side].known))}`).join("; ").replace(/^b/, "B") + "."),
      el("h3", {}, "The duty on this origin and HTS code"),
      cells.length === 0 ? el("p", { class: "no-cell-change" }, "Unchanged.") : el("table", { id: "diff-cells" },
        el("thead", {}, el("tr", {}, ["Origin", "HTS", "Before", "After", "Layers", "Instruments"].map((h) => el("th", {}, h)))),
        el("tbody", {}, cells.map((c) => el("tr", {},
          el("td", {}, c.origin), el("td", {}, c.hts), el("td", { class: "before" }, duty(c.before)),
          el("td", { class: "after" }, duty(c.after)), el("td", {}, c.layers.join("; ")),
          el("td", { class: "sources" }, c.events.map((e) => el("div", {},
            (e.sources || []).length ? sourceLink(e.sources[0]) : e.id))))))),
      el("h3", {}, `Measures and rules (${diff.changes.length})`),
      diff.changes.length === 0 ? el("p", {}, "No change.") : el("table", { id: "diff-changes" },
        el("thead", {}, el("tr", {}, ["Change", "Kind", "Item", "Fields", "Sources"].map((h) => el("th", {}, h)))),
        el("tbody", {}, diff.changes.map((c) => el("tr", {},
          el("td", { class: `change-${c.change}` }, c.change), el("td", {}, c.kind),
          el("td", {}, el("strong", {}, c.id), el("br"), c.title),
          el("td", {}, c.fields.map((f) => el("div", {}, `${f.field}: ${f.before ?? "—"} → ${f.after ?? "—"}`))),
          el("td", { class: "sources" }, c.events.flatMap((e) => (e.sources || []).slice(0, 1)).map((s) =>
            el("div", {}, sourceLink(s)))))))));
  }

  // ------------------------------------------------------------------ start

  function defaults() {
    const params = new URLSearchParams(location.search);
    $("origin").value = params.get("origin") || "";
    $("hts").value = params.get("hts") || "";
    $("from").value = params.get("from") || "2025-01-01";
    $("to").value = params.get("to") || "2026-06-30";
    if (params.get("known")) {
      $("known").value = params.get("known");
    } else {
      const from = Date.parse($("from").value);
      const to = Date.parse($("to").value);
      const middle = new Date((from + to) / 2).toISOString().slice(0, 10);
      $("known").value = `${middle}, now`;
    }
    $("mfn").value = params.get("mfn") || "";
    return params.get("origin") && params.get("hts");
  }

  async function start() {
    $("question").addEventListener("submit", show);
    $("diff-form").addEventListener("submit", compare);
    $("layers-known").addEventListener("change", showLayers);
    $("entered").addEventListener("change", () => { if ($("entered").value) selectDate($("entered").value); });
    window.addEventListener("resize", () => {
      if (state.chart) state.chart.setSize({ width: Math.max(480, $("chart").clientWidth), height: 380 });
    });
    const ready = defaults();
    try {
      state.origins = await getJson("timeline/origins.json", []);
      $("origins").replaceChildren(...state.origins.map((o) =>
        el("option", { value: `${o.name} (${o.code})` })));
    } catch (error) {
      showError(error.message);
    }
    if (ready) await show(null);
    document.body.dataset.ready = "true";
  }

  // What the page drew, for tests and curious readers: the chart's columns and the changes.
  window.tariffTimeline = {
    chartData: () => (state.chart ? state.chart.data.map((column) => [...column]) : null),
    seriesLabels: () => state.series.map((s) => s.label),
    changes: () => state.changes.map((c) => ({
      number: c.number, date: c.date, instruments: [...c.instruments.keys()],
      rates: c.perSeries.map(({ index, before, step }) => ({
        known: state.series[index].label, before: before.additional, after: step.additional,
        alternatives: step.alternatives, layers: step.layers })),
    })),
  };

  start();
})();
