// The operations page: polls api/status every 2 s and renders it with DOM APIs only (textContent, never innerHTML:
// service names, versions and reasons come from the registry and from Nacos and are not trusted).
"use strict";
(function () {
  const REFRESH_MS = 2000;
  const COLORS = ["#0b5cad", "#a4161a", "#1d6b33", "#8a5300", "#5b3fa3", "#00707a"];
  const SVG = "http://www.w3.org/2000/svg";
  let token = null;
  let timer = null;
  let busy = false;

  const $ = (id) => document.getElementById(id);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function row(cells) {
    const tr = document.createElement("tr");
    for (const cell of cells) tr.appendChild(cell instanceof Node ? wrap(cell) : el("td", cell));
    return tr;
  }

  function wrap(node) { const td = document.createElement("td"); td.appendChild(node); return td; }

  function percent(value, digits) { return (value * 100).toFixed(digits === undefined ? 1 : digits) + " %"; }

  function time(value) { return value ? new Date(value).toLocaleTimeString() : "—"; }

  function empty(tbody, columns, text) {
    const td = el("td", text, "note");
    td.colSpan = columns;
    const tr = document.createElement("tr");
    tr.appendChild(td);
    tbody.replaceChildren(tr);
  }

  async function refresh() {
    try {
      const response = await fetch("api/status", { cache: "no-store", credentials: "same-origin" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      render(await response.json());
      $("updated").textContent = "Updated " + new Date().toLocaleTimeString();
      $("updated").className = "";
    } catch (error) {
      $("updated").textContent = "Status unavailable (" + error.message + ")";
      $("updated").className = "error";
    }
  }

  function render(status) {
    $("versions").textContent = "Prod " + (status.prodVersion || "—") + " · Gray " + (status.grayVersion || "—") +
      (status.gatewayEnabled ? "" : " · gray routing off");
    renderRollout(status.rollout);
    renderTraffic(status.traffic);
    renderServices(status.services || []);
    renderRules(status.rules || []);
  }

  function renderRollout(rollout) {
    const buttons = document.querySelectorAll("button[data-command]");
    if (!rollout || !rollout.enabled || !rollout.status) {
      $("rollout-status").textContent = rollout && rollout.enabled ? "Waiting for the state in Nacos" : "No rollout";
      $("rollout-status").className = "";
      for (const b of buttons) b.disabled = true;
      $("rollout-steps").replaceChildren();
      empty($("history"), 5, "No transitions yet.");
      return;
    }

    const s = rollout.status;
    $("rollout-status").textContent = s + (rollout.nacosUnreachable ? " (Nacos unreachable: holding)" : "");
    $("rollout-status").className = "status-" + s;
    $("rollout-step").textContent = (rollout.step + 1) + " of " + rollout.steps.length + " · " + rollout.grayVersion + " over " + rollout.prodVersion;
    $("rollout-percentage").textContent = rollout.percentage === null || rollout.percentage === undefined ? "—" : rollout.percentage + " %";
    $("rollout-next").textContent = s === "Progressing" ? (rollout.nextDecisionAt ? time(rollout.nextDecisionAt) : "when the leader judges")
      : s === "RolledBack" ? "none (RolledBack: a new gray version starts a new rollout)" : "none (" + s + ")";
    $("rollout-verdict").textContent = rollout.lastVerdict ? rollout.lastVerdict + ": " + (rollout.lastVerdictReason || "") : "—";
    $("rollout-leader").textContent = rollout.leader ? rollout.leader + (rollout.isLeader ? " (this gateway)" : "") : "—";

    const steps = rollout.steps.map((p, i) => {
      const li = el("li", p + " %");
      if (i === rollout.step && (s === "Progressing" || s === "Paused")) { li.className = "current"; li.setAttribute("aria-current", "step"); }
      return li;
    });
    $("rollout-steps").replaceChildren(...steps);

    // The transitions the server accepts (RolloutEngine.Target); anything else it answers 409. Nothing from RolledBack
    // or Promoted: a rolled-back release is not promoted untried.
    const allowed = { pause: s === "Progressing", resume: s === "Paused", abort: s === "Progressing" || s === "Paused", promote: s === "Progressing" || s === "Paused" };
    for (const b of buttons) b.disabled = busy || !allowed[b.dataset.command];

    const history = (rollout.history || []).slice().reverse();
    if (history.length === 0) { empty($("history"), 5, "No transitions yet."); return; }
    $("history").replaceChildren(...history.map((h) => row([time(h.at), h.from + " " + (h.fromStep + 1) + " → " + h.to + " " + (h.toStep + 1), h.percentage, h.reason, h.by || ""])));
  }

  function renderTraffic(traffic) {
    const versions = (traffic && traffic.versions) || [];
    $("traffic-window").textContent = "Last " + (traffic ? traffic.windowSeconds : 0) + " s, requests per " + (traffic ? traffic.bucketSeconds : 0) + " s, lanes merged (this gateway).";
    if (versions.length === 0) {
      empty($("traffic"), 6, "No proxied requests yet.");
      $("chart").replaceChildren(el("p", "No traffic to chart yet.", "note"));
      return;
    }

    $("traffic").replaceChildren(...versions.map((v) => row([v.service, v.version || "(none)", v.requests, percent(v.share), v.errors, percent(v.errorRate, 2)])));
    $("chart").replaceChildren(...chart(versions));
  }

  // An inline SVG line chart of requests per bucket, one line per service/version, with a text summary for screen readers.
  function chart(versions) {
    const width = 600, height = 180, pad = 28;
    const buckets = versions[0].points.length;
    const max = Math.max(1, ...versions.flatMap((v) => v.points.map((p) => p.requests)));
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("role", "img");
    const summary = versions.map((v) => v.service + " " + (v.version || "(none)") + ": " + v.requests + " requests, " + percent(v.share) + " of the service, " + percent(v.errorRate, 2) + " errors").join("; ");
    svg.setAttribute("aria-label", "Requests per interval by version. " + summary);
    const axis = document.createElementNS(SVG, "line");
    axis.setAttribute("x1", pad); axis.setAttribute("x2", width - 4); axis.setAttribute("y1", height - pad); axis.setAttribute("y2", height - pad);
    axis.setAttribute("stroke", "#4a5361");
    svg.appendChild(axis);
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", 2); label.setAttribute("y", 12); label.setAttribute("font-size", "11"); label.setAttribute("fill", "#4a5361");
    label.textContent = String(max);
    svg.appendChild(label);
    const legend = el("ul", null, "legend");
    versions.forEach((v, index) => {
      const color = COLORS[index % COLORS.length];
      const points = v.points.map((p, i) => {
        const x = pad + (buckets > 1 ? i * (width - pad - 4) / (buckets - 1) : 0);
        const y = height - pad - (p.requests / max) * (height - pad - 16);
        return x.toFixed(1) + "," + y.toFixed(1);
      });
      const line = document.createElementNS(SVG, "polyline");
      line.setAttribute("points", points.join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", color);
      line.setAttribute("stroke-width", "2.5");
      svg.appendChild(line);
      const item = el("li");
      const swatch = el("span", null, "swatch");
      swatch.style.background = color;
      item.append(swatch, document.createTextNode(v.service + " " + (v.version || "(none)") + " · " + percent(v.share) + " · errors " + percent(v.errorRate, 2)));
      legend.appendChild(item);
    });
    return [svg, legend];
  }

  function renderServices(services) {
    if (services.length === 0) { $("services").replaceChildren(el("p", "No clusters.", "note")); return; }
    const blocks = services.map((service) => {
      const section = el("section");
      const id = "service-" + service.cluster.replace(/[^A-Za-z0-9_-]/g, "_");
      const heading = el("h3", service.name + (service.name === service.cluster ? "" : " (cluster " + service.cluster + ")"));
      heading.id = id;
      section.setAttribute("aria-labelledby", id);
      const table = el("table");
      const head = el("thead");
      const header = document.createElement("tr");
      for (const name of ["Lane", "Version", "Instance", "Health", "Weight"]) { const th = el("th", name); th.scope = "col"; header.appendChild(th); }
      head.appendChild(header);
      const body = el("tbody");
      if (service.instances.length === 0) empty(body, 5, "No instances.");
      for (const i of service.instances) {
        body.appendChild(row([i.lane || "(base)", i.version || "(none)", i.address, el("span", i.health, "health-" + i.health), i.weight]));
      }
      table.append(head, body);
      section.append(heading, table);
      return section;
    });
    $("services").replaceChildren(...blocks);
  }

  function renderRules(rules) {
    if (rules.length === 0) { empty($("rules"), 4, "No active rule: every request goes to prod."); return; }
    $("rules").replaceChildren(...rules.map((r) => row([r.lane, r.priority, r.kind, r.value])));
  }

  async function fetchToken() {
    const response = await fetch("api/antiforgery", { cache: "no-store", credentials: "same-origin" });
    if (!response.ok) throw new Error("anti-forgery token: HTTP " + response.status);
    token = await response.json();
  }

  async function command(name) {
    const result = $("command-result");
    busy = true;
    for (const b of document.querySelectorAll("button[data-command]")) b.disabled = true;
    result.className = "";
    result.textContent = "Sending " + name + "…";
    try {
      if (!token) await fetchToken();
      const send = () => fetch("api/rollout/" + encodeURIComponent(name), { method: "POST", credentials: "same-origin", headers: { [token.header]: token.token } });
      let response = await send();
      if (response.status === 400) { await fetchToken(); response = await send(); }
      if (response.ok) {
        const state = await response.json();
        result.textContent = name + ": done, the rollout is now " + state.status + ".";
      } else {
        let detail = "HTTP " + response.status;
        try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
        result.textContent = name + " not applied: " + detail;
        result.className = "error";
      }
    } catch (error) {
      result.textContent = name + " failed: " + error.message;
      result.className = "error";
    } finally {
      busy = false;
      await refresh();
    }
  }

  function schedule() {
    clearInterval(timer);
    timer = $("live").checked ? setInterval(refresh, REFRESH_MS) : null;
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const b of document.querySelectorAll("button[data-command]")) b.addEventListener("click", () => command(b.dataset.command));
    $("live").addEventListener("change", schedule);
    fetchToken().catch(() => { /* fetched again on the first command */ });
    refresh();
    schedule();
  });
})();
