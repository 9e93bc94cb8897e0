/* The yizhan dashboard: reads the management API (RabbitMQ's endpoints and /api/yizhan/redis)
 * with HTTP Basic auth and redraws every few seconds. Plain JS, no framework; every value from
 * the server goes into the page as text (textContent), never as markup. */
"use strict";

const AUTH_KEY = "yizhan-dashboard-auth";
const state = {
  auth: sessionStorage.getItem(AUTH_KEY),
  user: null,
  tab: "overview",
  timer: null,
  queue: null,      // [vhost, name] of the queue shown in detail
  exchange: null,   // [vhost, name] of the exchange shown in detail
  redisCursor: "0",
  lastRedis: null,  // {time, commands} of the previous Redis sample (ops/s)
  lastStats: null,  // {time, counters} of the previous overview message_stats
  charts: {},
};

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

class APIError extends Error {
  constructor(status, body) {
    super((body && (body.reason || body.error)) || "HTTP " + status);
    this.status = status;
    this.error = body && body.error;
  }

  /* 401 "not_authorized" is a failed login; 401 "not_authorised" a user lacking a tag. */
  get loginFailed() { return this.status === 401 && this.error !== "not_authorised"; }
}

async function api(path, options = {}) {
  const headers = {Authorization: "Basic " + state.auth, ...(options.headers || {})};
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch("/api/" + path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    cache: "no-store",
    credentials: "omit",  // our own Authorization header; a 401 then never opens the browser's login prompt
  });
  const text = await response.text();
  let body = null;
  if (text) { try { body = JSON.parse(text); } catch (e) { body = {reason: text}; } }
  if (!response.ok) throw new APIError(response.status, body);
  return body;
}

/* -- small DOM helpers ------------------------------------------------------------------ */
function cell(row, value, className) {
  const td = document.createElement("td");
  td.textContent = value === undefined || value === null ? "" : String(value);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fillTable(table, rows, build) {
  const body = table.tBodies[0];
  const fresh = document.createElement("tbody");
  for (const item of rows) {
    const tr = document.createElement("tr");
    build(tr, item);
    fresh.appendChild(tr);
  }
  table.replaceChild(fresh, body);
}

function facts(dl, pairs) {
  dl.textContent = "";
  for (const [name, value] of pairs) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dl.append(dt, dd);
  }
}

function setText(id, value) { $(id).textContent = value === undefined || value === null ? "–" : String(value); }

function showResult(id, text, ok) {
  const el = $(id);
  el.textContent = text;
  el.className = "result " + (ok ? "ok" : "error");
}

function status(text) {
  const el = $("status");
  el.textContent = text || "";
  el.className = text ? "error" : "";
}

function humanBytes(n) {
  if (!Number.isFinite(n)) return "–";
  const units = [["GiB", 1 << 30], ["MiB", 1 << 20], ["KiB", 1 << 10]];
  for (const [unit, size] of units) if (n >= size) return (n / size).toFixed(1) + " " + unit;
  return n + " B";
}

function duration(seconds) {
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
  const m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}

function features(item) {
  const out = [];
  if (item.durable) out.push("D");
  if (item.auto_delete) out.push("AD");
  if (item.exclusive) out.push("Excl");
  if (item.internal) out.push("I");
  const args = Object.keys(item.arguments || {});
  if (args.length) out.push("Args: " + args.join(", "));
  return out.join(" ");
}

function argumentsText(args) {
  const keys = Object.keys(args || {});
  return keys.length ? keys.map((k) => `${k}: ${JSON.stringify(args[k])}`).join(", ") : "";
}

/* Message properties as the API gives them (an empty set is RabbitMQ's []). */
function propertiesText(properties) {
  const keys = Object.keys(properties || {});
  return keys.length && !Array.isArray(properties)
    ? keys.map((k) => `${k}: ${JSON.stringify(properties[k])}`).join(", ") : "none";
}

function exchangeLabel(name) { return name === "" ? "(AMQP default)" : name; }

/* -- login ------------------------------------------------------------------------------ */
async function login(username, password) {
  state.auth = btoa(unescape(encodeURIComponent(username + ":" + password)));
  try {
    state.user = await api("whoami");
  } catch (error) {
    state.auth = null;
    sessionStorage.removeItem(AUTH_KEY);
    throw error;
  }
  sessionStorage.setItem(AUTH_KEY, state.auth);
  startApp();
}

function logout() {
  sessionStorage.removeItem(AUTH_KEY);
  state.auth = null;
  state.user = null;
  clearTimeout(state.timer);
  $("app").hidden = true;
  $("tabs").hidden = true;
  $("session").hidden = true;
  $("login-view").hidden = false;
  document.body.classList.remove("administrator");
}

function startApp() {
  $("login-view").hidden = true;
  $("app").hidden = false;
  $("tabs").hidden = false;
  $("session").hidden = false;
  $("whoami").textContent = state.user.name;
  document.body.classList.toggle("administrator", state.user.tags.includes("administrator"));
  showTab((location.hash || "#overview").slice(1));
  refresh();
}

/* -- tabs and the refresh loop ---------------------------------------------------------- */
const VIEWS = {
  overview: [loadOverview, loadRedis],
  connections: [loadConnections],
  queues: [loadQueues],
  exchanges: [loadExchanges],
  redis: [loadRedis],
};

function showTab(tab) {
  if (!VIEWS[tab]) tab = "overview";
  state.tab = tab;
  for (const link of document.querySelectorAll("#tabs a")) link.classList.toggle("active", link.dataset.tab === tab);
  for (const view of document.querySelectorAll(".view")) view.classList.toggle("active", view.id === "view-" + tab);
}

async function refresh() {
  clearTimeout(state.timer);
  if (!state.auth) return;
  if (document.hidden) return;  // a tab in the background asks nothing; visibilitychange resumes
  try {
    await Promise.all(VIEWS[state.tab].map((load) => load()));
    status("");
  } catch (error) {
    if (error.loginFailed) { logout(); $("login-error").textContent = error.message; return; }
    status("Could not read the management API: " + error.message);
  }
  const every = Number($("refresh").value);
  if (every > 0) state.timer = setTimeout(refresh, every);
}

/* -- overview --------------------------------------------------------------------------- */
function ensureCharts() {
  if (state.charts.queued) return;
  state.charts.queued = new LineChart($("chart-queued"), $("legend-queued"), [
    {label: "Ready", color: "#d97706"}, {label: "Unacked", color: "#2563eb"}, {label: "Total", color: "#6b7280"}]);
  state.charts.rates = new LineChart($("chart-rates"), $("legend-rates"), [
    {label: "Publish", color: "#c2410c"}, {label: "Deliver / get", color: "#15803d"},
    {label: "Ack", color: "#2563eb"}, {label: "Redelivered", color: "#7c3aed"}]);
  state.charts.ops = new LineChart($("chart-ops"), $("legend-ops"), [{label: "Commands/s", color: "#b91c1c"}]);
}

const RATE_FIELDS = ["publish", "deliver_get", "ack", "redeliver"];

/* Rates as the API reports them (`<field>_details.rate`), or else from the change of the
 * counters between two samples; null where the API has neither. */
function messageRates(stats, now) {
  const previous = state.lastStats;
  state.lastStats = {time: now, counters: stats};
  return RATE_FIELDS.map((field) => {
    const details = stats[field + "_details"];
    if (details && Number.isFinite(details.rate)) return details.rate;
    if (!Number.isFinite(stats[field])) return null;
    if (!previous || !Number.isFinite(previous.counters[field])) return null;
    return Math.max(0, (stats[field] - previous.counters[field]) * 1000 / Math.max(now - previous.time, 1));
  });
}

async function loadOverview() {
  const overview = await api("overview");
  ensureCharts();
  const now = Date.now();
  const totals = overview.object_totals || {};
  const queued = overview.queue_totals || {};
  setText("total-connections", totals.connections);
  setText("total-channels", totals.channels);
  setText("total-queues", totals.queues);
  setText("total-exchanges", totals.exchanges);
  setText("total-consumers", totals.consumers);
  setText("total-ready", queued.messages_ready);
  setText("total-unacked", queued.messages_unacknowledged);
  $("node-name").textContent = overview.node + " · " + overview.product_name + " " + overview.rabbitmq_version + " API";
  state.charts.queued.push(now, [queued.messages_ready, queued.messages_unacknowledged, queued.messages]);
  const rates = messageRates(overview.message_stats || {}, now);
  state.charts.rates.push(now, rates);
  $("rates-note").textContent = rates.every((r) => r === null)
    ? "This server's API reports no message rates (message_stats is empty)." : "";
  fillTable($("listeners"), overview.listeners || [], (tr, l) => {
    cell(tr, l.protocol); cell(tr, l.ip_address); cell(tr, l.port);
  });
}

/* -- paged lists: RabbitMQ's page, page_size, name and use_regex ------------------------- */
const LIST_COLUMNS = {
  connections: "name,vhost,user,client_properties,state,channels,protocol",
  queues: "vhost,name,type,durable,auto_delete,exclusive,arguments,state,messages_ready,messages_unacknowledged,messages,consumers",
  exchanges: "vhost,name,type,durable,auto_delete,internal,arguments",
};

function pager(kind) { return document.querySelector(`form.pager[data-list="${kind}"]`); }

/* One page of /api/<kind> as the pager form asks; a server that does not page answers the
 * whole list, shown as one page. */
async function listPage(kind) {
  const form = pager(kind);
  const page = Number(form.dataset.page || "1");
  const query = new URLSearchParams({page, page_size: form.size.value, columns: LIST_COLUMNS[kind]});
  if (form.name.value) {
    query.set("name", form.name.value);
    query.set("use_regex", form.regex.checked ? "true" : "false");
  }
  let body;
  try {
    body = await api(kind + "?" + query);
  } catch (error) {
    if (error.error !== "page_out_of_range" || page === 1) throw error;
    form.dataset.page = "1";  // the list shrank under us
    return listPage(kind);
  }
  const result = Array.isArray(body)
    ? {items: body, page: 1, page_count: 1, filtered_count: body.length, total_count: body.length}
    : body;
  form.querySelector('[data-step="-1"]').disabled = result.page <= 1;
  form.querySelector('[data-step="1"]').disabled = result.page >= result.page_count;
  form.querySelector('[data-role="summary"]').textContent =
    `Page ${result.page} of ${Math.max(result.page_count, 1)} · ${result.filtered_count} shown of ${result.total_count}`;
  return result.items;
}

function wirePager(form) {
  const kind = form.dataset.list;
  const reload = () => refresh();
  form.addEventListener("submit", (event) => { event.preventDefault(); form.dataset.page = "1"; reload(); });
  let typing = null;
  form.name.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { form.dataset.page = "1"; reload(); }, 250);
  });
  form.regex.addEventListener("change", () => { form.dataset.page = "1"; reload(); });
  form.size.addEventListener("change", () => { form.dataset.page = "1"; reload(); });
  for (const button of form.querySelectorAll("button[data-step]")) {
    button.addEventListener("click", () => {
      form.dataset.page = String(Number(form.dataset.page || "1") + Number(button.dataset.step));
      reload();
    });
  }
  form.dataset.page = "1";
  return kind;
}

/* -- connections ------------------------------------------------------------------------ */
async function loadConnections() {
  let rows;
  try {
    rows = await listPage("connections");
  } catch (error) {
    if (error.status !== 404) throw error;
    $("connections-note").textContent = "This server's API has no /api/connections endpoint.";
    fillTable($("connections-table"), [], () => {});
    return;
  }
  $("connections-note").textContent = rows.length ? "" : "No connections.";
  fillTable($("connections-table"), rows, (tr, c) => {
    const client = c.client_properties || {};
    cell(tr, c.name); cell(tr, c.vhost); cell(tr, c.user);
    cell(tr, [client.product, client.version].filter(Boolean).join(" "));
    cell(tr, c.state); cell(tr, c.channels, "num"); cell(tr, c.protocol);
    tr.dataset.connection = c.name;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "close-connection";
    close.textContent = "Force close";
    close.addEventListener("click", () => closeConnection(c.name));
    cell(tr, "", "admin-only").appendChild(close);
  });
}

async function closeConnection(name) {
  try {
    await api("connections/" + enc(name), {method: "DELETE", headers: {"X-Reason": "Closed from the yizhan dashboard"}});
    showResult("connections-result", "Connection " + name + " closed.", true);
  } catch (error) {
    showResult("connections-result", "Close failed: " + error.message, false);
  }
  refresh();
}

/* -- queues ----------------------------------------------------------------------------- */
async function loadQueues() {
  const queues = await listPage("queues");
  fillTable($("queues-table"), queues, (tr, q) => {
    tr.dataset.vhost = q.vhost;
    tr.dataset.queue = q.name;
    if (state.queue && state.queue[0] === q.vhost && state.queue[1] === q.name) tr.classList.add("selected");
    cell(tr, q.vhost); cell(tr, q.name); cell(tr, q.type); cell(tr, features(q)); cell(tr, q.state);
    cell(tr, q.messages_ready, "num ready"); cell(tr, q.messages_unacknowledged, "num unacked");
    cell(tr, q.messages, "num messages"); cell(tr, q.consumers, "num consumers");
    tr.addEventListener("click", () => openQueue(q.vhost, q.name));
  });
  if (state.queue) await loadQueueDetail();
}

function openQueue(vhost, name) {
  state.queue = [vhost, name];
  $("queue-detail").hidden = false;
  $("queue-get-result").textContent = "";
  $("queue-action-result").textContent = "";
  for (const tr of $("queues-table").tBodies[0].rows) {
    tr.classList.toggle("selected", tr.dataset.vhost === vhost && tr.dataset.queue === name);
  }
  loadQueueDetail().catch((error) => status(error.message));
}

function queuePath() { return enc(state.queue[0]) + "/" + enc(state.queue[1]); }

async function loadQueueDetail() {
  let queue, bindings;
  try {
    [queue, bindings] = await Promise.all([api("queues/" + queuePath()), api("queues/" + queuePath() + "/bindings")]);
  } catch (error) {
    if (error.status !== 404) throw error;
    showResult("queue-action-result", "The queue no longer exists.", false);
    return;
  }
  $("queue-detail-name").textContent = queue.name;
  $("queue-detail-vhost").textContent = "in " + queue.vhost;
  facts($("queue-facts"), [
    ["Type", queue.type], ["Features", features(queue) || "–"], ["State", queue.state],
    ["Ready", queue.messages_ready], ["Unacked", queue.messages_unacknowledged], ["Total", queue.messages],
    ["Consumers", queue.consumers], ["Message bytes", humanBytes(queue.message_bytes)],
    ["Arguments", argumentsText(queue.arguments) || "–"],
  ]);
  fillTable($("queue-bindings"), bindings, (tr, b) => {
    cell(tr, exchangeLabel(b.source)); cell(tr, b.routing_key); cell(tr, argumentsText(b.arguments));
  });
  fillTable($("queue-consumers"), queue.consumer_details || [], (tr, c) => {
    cell(tr, (c.channel_details || {}).name); cell(tr, c.consumer_tag); cell(tr, c.ack_required);
    cell(tr, c.exclusive); cell(tr, c.prefetch_count, "num");
  });
}

async function purgeQueue(event) {
  event.preventDefault();
  try {
    await api("queues/" + queuePath() + "/contents", {method: "DELETE"});
    showResult("queue-action-result", "Queue purged.", true);
  } catch (error) {
    showResult("queue-action-result", "Purge failed: " + error.message, false);
  }
  refresh();
}

async function publish(vhost, exchange, routingKey, payload, persistent, resultId) {
  try {
    const answer = await api(`exchanges/${enc(vhost)}/${enc(exchange === "" ? "amq.default" : exchange)}/publish`, {
      method: "POST",
      body: {properties: persistent ? {delivery_mode: 2} : {}, routing_key: routingKey,
             payload, payload_encoding: "string"},
    });
    showResult(resultId, answer.routed ? "Message published." : "Message published, but not routed.", answer.routed);
  } catch (error) {
    showResult(resultId, "Publish failed: " + error.message, false);
  }
  refresh();
}

function publishToQueue(event) {
  event.preventDefault();
  const form = event.target;
  publish(state.queue[0], "", state.queue[1], form.payload.value, form.persistent.checked, "queue-action-result");
}

async function getMessages(event) {
  event.preventDefault();
  const form = event.target;
  const out = $("queue-get-result");
  out.textContent = "";
  $("queue-action-result").textContent = "";
  try {
    const messages = await api("queues/" + queuePath() + "/get", {
      method: "POST",
      body: {count: Number(form.count.value) || 1, ackmode: form.ackmode.value, encoding: "auto", truncate: 50000},
    });
    if (!messages.length) out.textContent = "Queue is empty.";
    messages.forEach((m, i) => {
      const box = document.createElement("div");
      box.className = "message";
      const dl = document.createElement("dl");
      dl.className = "facts";
      facts(dl, [["Message", i + 1], ["Exchange", exchangeLabel(m.exchange)], ["Routing key", m.routing_key],
                 ["Redelivered", m.redelivered], ["Properties", propertiesText(m.properties)],
                 ["Payload", `${m.payload_bytes} bytes, encoding ${m.payload_encoding}`]]);
      const pre = document.createElement("pre");
      pre.className = "value";
      pre.textContent = m.payload;
      box.append(dl, pre);
      out.appendChild(box);
    });
  } catch (error) {
    out.textContent = "Get failed: " + error.message;
  }
  refresh();
}

/* -- exchanges -------------------------------------------------------------------------- */
async function loadExchanges() {
  const exchanges = await listPage("exchanges");
  fillTable($("exchanges-table"), exchanges, (tr, x) => {
    tr.dataset.vhost = x.vhost;
    tr.dataset.exchange = x.name;
    cell(tr, x.vhost); cell(tr, exchangeLabel(x.name)); cell(tr, x.type); cell(tr, features(x));
    tr.addEventListener("click", () => openExchange(x.vhost, x.name));
  });
  if (state.exchange) await loadExchangeDetail();
}

function openExchange(vhost, name) {
  state.exchange = [vhost, name];
  $("exchange-detail").hidden = false;
  $("exchange-action-result").textContent = "";
  loadExchangeDetail().catch((error) => status(error.message));
}

async function loadExchangeDetail() {
  const [vhost, name] = state.exchange;
  const path = enc(vhost) + "/" + enc(name === "" ? "amq.default" : name);
  const [source, destination] = await Promise.all([
    api("exchanges/" + path + "/bindings/source"), api("exchanges/" + path + "/bindings/destination")]);
  $("exchange-detail-name").textContent = exchangeLabel(name);
  $("exchange-detail-vhost").textContent = "in " + vhost;
  fillTable($("exchange-bindings-source"), source, (tr, b) => {
    cell(tr, b.destination); cell(tr, b.destination_type); cell(tr, b.routing_key); cell(tr, argumentsText(b.arguments));
  });
  fillTable($("exchange-bindings-destination"), destination, (tr, b) => {
    cell(tr, exchangeLabel(b.source)); cell(tr, b.routing_key); cell(tr, argumentsText(b.arguments));
  });
}

function publishToExchange(event) {
  event.preventDefault();
  const form = event.target;
  publish(state.exchange[0], state.exchange[1], form.routing_key.value, form.payload.value, false, "exchange-action-result");
}

/* -- Redis ------------------------------------------------------------------------------ */
async function loadRedis() {
  let redis;
  try {
    redis = await api("yizhan/redis");
  } catch (error) {
    if (error.loginFailed || error.status !== 401) throw error;
    $("redis-note").textContent = "The Redis panel needs a user tagged monitoring or administrator (" + error.message + ").";
    $("overview-redis-note").textContent = $("redis-note").textContent;
    return;
  }
  $("redis-note").textContent = "";
  $("overview-redis-note").textContent = "";
  ensureCharts();
  const now = Date.now();
  const commands = redis.stats.total_commands_processed;
  const previous = state.lastRedis;
  state.lastRedis = {time: now, commands};
  const ops = previous ? Math.max(0, (commands - previous.commands) * 1000 / Math.max(now - previous.time, 1)) : null;
  const keys = redis.keyspace.reduce((sum, db) => sum + db.keys, 0);
  const opsText = ops === null ? "–" : ops.toFixed(ops < 10 ? 1 : 0);
  setText("overview-redis-clients", redis.clients.connected_clients);
  setText("overview-redis-ops", opsText);
  setText("overview-redis-keys", keys);
  setText("overview-redis-memory", humanBytes(redis.memory.used_memory));
  setText("redis-clients", redis.clients.connected_clients);
  setText("redis-blocked", redis.clients.blocked_clients);
  setText("redis-ops", opsText);
  setText("redis-commands", commands);
  setText("redis-memory", humanBytes(redis.memory.used_memory));
  setText("redis-hits", `${redis.stats.keyspace_hits} / ${redis.stats.keyspace_misses}`);
  setText("redis-uptime", duration(redis.server.uptime_in_seconds));
  if (ops !== null) state.charts.ops.push(now, [ops]);
  const {server, replication, persistence, memory} = redis;
  facts($("redis-server"), [
    ["Version", `${server.redis_version} (yizhan ${server.yizhan_version || "?"})`],
    ["Port", server.tcp_port],
    ["Role", replication.role + (replication.role === "master" ? `, ${replication.connected_slaves} replicas` : "")],
    ["Changes since last save", persistence.rdb_changes_since_last_save],
    ["Last save", persistence.rdb_last_save_time ? new Date(persistence.rdb_last_save_time * 1000).toLocaleString() : "never"],
    ["AOF", persistence.aof_enabled ? "on" : "off"],
    ["Maxmemory", memory.maxmemory ? `${humanBytes(memory.maxmemory)} (${memory.maxmemory_policy})` : "none"],
  ]);
  fillTable($("redis-keyspace"), redis.keyspace, (tr, db) => {
    tr.dataset.db = db.db;
    tr.addEventListener("click", () => { $("redis-db").value = db.db; scanKeys(true); });
    cell(tr, "db" + db.db); cell(tr, db.keys, "num keys"); cell(tr, db.expires, "num"); cell(tr, db.avg_ttl, "num");
  });
  $("redis-slowlog-len").textContent = `(${redis.slowlog_len} entries, newest ${redis.slowlog.length} shown)`;
  fillTable($("redis-slowlog"), redis.slowlog, (tr, e) => {
    cell(tr, e.id, "num"); cell(tr, new Date(e.time * 1000).toLocaleString()); cell(tr, e.duration_us, "num");
    cell(tr, e.args.join(" ")); cell(tr, e.client_addr + (e.client_name ? " " + e.client_name : ""));
  });
  fillDatabases(redis.databases, redis.keyspace);
}

function fillDatabases(count, keyspace) {
  const select = $("redis-db");
  if (select.options.length) return;
  for (let i = 0; i < count; i++) {
    const option = document.createElement("option");
    option.value = i;
    option.textContent = "db" + i;
    select.appendChild(option);
  }
  if (keyspace.length) select.value = keyspace[0].db;
}

async function scanKeys(fromStart) {
  const form = $("redis-browser");
  if (fromStart) state.redisCursor = "0";
  const query = new URLSearchParams({db: form.db.value, cursor: state.redisCursor,
                                     match: form.match.value || "*", count: form.count.value || "100"});
  let page;
  try {
    page = await api("yizhan/redis/keys?" + query);
  } catch (error) {
    status("Scan failed: " + error.message);
    return;
  }
  state.redisCursor = page.cursor;
  $("redis-scan-more").disabled = page.cursor === "0";
  $("redis-cursor").textContent = page.cursor === "0" ? "scan complete" : "cursor " + page.cursor;
  fillTable($("redis-keys"), page.keys, (tr, k) => {
    tr.dataset.name = k.name;
    cell(tr, k.name); cell(tr, k.type, "type"); cell(tr, k.ttl, "num ttl");
    tr.addEventListener("click", () => previewKey(page.db, k.key));
  });
}

async function previewKey(db, key) {
  let item;
  try {
    item = await api("yizhan/redis/key?" + new URLSearchParams({db, key}));
  } catch (error) {
    status("Preview failed: " + error.message);
    return;
  }
  $("redis-preview").hidden = false;
  $("redis-preview-name").textContent = item.name;
  facts($("redis-preview-facts"), [
    ["Database", "db" + item.db], ["Type", item.type],
    ["TTL", item.ttl < 0 ? "none" : item.ttl + " ms"],
    [item.type === "string" ? "Bytes" : "Length", item.length],
  ]);
  const out = $("redis-preview-value");
  out.textContent = "";
  if (item.type === "string") {
    const pre = document.createElement("pre");
    pre.className = "value";
    pre.textContent = item.preview;
    out.appendChild(pre);
  } else if (item.preview) {
    const table = document.createElement("table");
    table.className = "grid";
    table.createTBody();
    fillTable(table, item.preview, (tr, element) => {
      if (Array.isArray(element)) {
        cell(tr, element[0]);
        cell(tr, Array.isArray(element[1]) ? element[1].join(" ") : element[1]);
      } else {
        cell(tr, element);
      }
    });
    out.appendChild(table);
  }
  if (item.truncated) {
    const note = document.createElement("p");
    note.className = "muted small";
    note.textContent = "Preview cut short: the value is longer.";
    out.appendChild(note);
  }
}

/* -- wiring ----------------------------------------------------------------------------- */
function wire() {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    login($("login-username").value, $("login-password").value).catch((error) => {
      $("login-error").textContent = error.status === 401 ? error.message : "Login failed: " + error.message;
    });
  });
  $("logout").addEventListener("click", logout);
  $("refresh").addEventListener("change", refresh);
  document.addEventListener("visibilitychange", refresh);
  window.addEventListener("hashchange", () => { showTab(location.hash.slice(1)); refresh(); });
  for (const button of document.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => {
      $(button.dataset.close).hidden = true;
      if (button.dataset.close === "queue-detail") state.queue = null;
      if (button.dataset.close === "exchange-detail") state.exchange = null;
    });
  }
  $("queue-purge").addEventListener("submit", purgeQueue);
  $("queue-publish").addEventListener("submit", publishToQueue);
  $("queue-get").addEventListener("submit", getMessages);
  $("exchange-publish").addEventListener("submit", publishToExchange);
  $("redis-browser").addEventListener("submit", (event) => { event.preventDefault(); scanKeys(true); });
  $("redis-scan-more").addEventListener("click", () => scanKeys(false));
  document.querySelectorAll("form.pager").forEach(wirePager);
}

async function boot() {
  wire();
  if (state.auth) {
    try {
      state.user = await api("whoami");
      startApp();
      return;
    } catch (error) {
      sessionStorage.removeItem(AUTH_KEY);
      state.auth = null;
    }
  }
  $("login-view").hidden = false;
}

boot();
