// The live wallboard: the snapshot first (GET /api/wallboard), then the wallboard messages of
// /ws/pops (each the whole picture; the newest `version` wins). Waits and times in a state
// tick here: the server's seconds plus the time gone by since the picture came.
// Everything from outside is written with textContent.
"use strict";
(function () {
  const words = JSON.parse(document.getElementById("words").textContent);
  const $ = (id) => document.getElementById(id);
  const link = $("wall-link");
  const operators = $("operators");
  const waiting = $("waiting");
  const opTemplate = $("operator-template");
  const waitTemplate = $("waiting-template");
  let current = null;       // the picture shown
  let counts = null;        // today's counters shown (a picture without them keeps these)
  let receivedAt = 0;       // performance.now() when it came
  let version = -1;         // its version (reset on every new socket: a restarted server counts anew)

  function clock(seconds) {
    if (seconds === null || seconds === undefined) { return ""; }
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    return h > 0 ? h + ":" + two(m) + ":" + two(r) : m + ":" + two(r);
  }

  function elapsed() { return (performance.now() - receivedAt) / 1000; }

  function fill(node, field, text) {
    const el = node.querySelector('[data-f="' + field + '"]');
    if (el) { el.textContent = text; }
    return el;
  }

  function setLink(state, text) { link.dataset.state = state; link.textContent = text; }

  function showLink() {
    if (!current) { return; }
    if (!current.live) {
      setLink("offline", "Stan kolejki na żywo pokazuje serwer z nasłuchem centrali (callcenter serve); tu tylko liczniki dnia.");
    } else if (!current.connected) {
      const since = current.connection_since ? new Date(current.connection_since).toLocaleTimeString("pl-PL") : "";
      setLink("closed", "Brak połączenia z centralą" + (since ? " od " + since : "") + ": stan może być nieaktualny.");
    } else if (socketOpen) {
      setLink("open", "Na żywo");
    }
  }

  function showCounts(counts, picture) {
    const set = (id, value) => { $(id).textContent = value === null || value === undefined ? "–" : String(value); };
    set("c-waiting", picture.live ? picture.waiting.length : null);
    if (!counts) {
      ["c-offered", "c-answered", "c-abandoned", "c-unanswered", "c-rejected", "c-sl"].forEach((id) => set(id, null));
      $("c-sl-note").textContent = "";
      return;
    }
    set("c-offered", counts.offered);
    set("c-answered", counts.answered);
    set("c-abandoned", counts.abandoned);
    set("c-unanswered", counts.unanswered);
    set("c-rejected", counts.rejected);
    set("c-sl", counts.service_level === null ? null : Math.round(counts.service_level * 100) + "%");
    $("c-sl-note").textContent = "odebrane w " + counts.service_level_target_s + " s: " +
      counts.answered_in_target + " z " + counts.queued_over;
  }

  function showOperators(list) {
    operators.replaceChildren();
    const counts = {};
    for (const op of list) {
      const card = opTemplate.content.firstElementChild.cloneNode(true);
      card.dataset.state = op.state;
      card.dataset.name = op.name;
      fill(card, "name", op.name);
      fill(card, "state", words.states[op.state] || op.state);
      fill(card, "caller", op.caller && (op.state === "ringing" || op.state === "talking") ? op.caller : "");
      // The pause's reason; a member paused during a call shows the pause beside the call.
      let pauseText = "";
      if (op.paused) {
        pauseText = op.state === "paused" ? op.pause_reason : "przerwa" + (op.pause_reason ? ": " + op.pause_reason : "");
      }
      fill(card, "pause", pauseText).hidden = !pauseText;
      card._forS = op.for_s;
      operators.appendChild(card);
      counts[op.state] = (counts[op.state] || 0) + 1;
    }
    $("ops-empty").hidden = list.length > 0;
    $("ops-sum").textContent = list.length ? Object.keys(words.states)
      .filter((s) => counts[s]).map((s) => words.states[s].toLowerCase() + ": " + counts[s]).join(" · ") : "";
  }

  function showWaiting(list) {
    waiting.replaceChildren();
    for (const w of list) {
      const row = waitTemplate.content.firstElementChild.cloneNode(true);
      fill(row, "position", String(w.position));
      fill(row, "caller", w.caller || "numer zastrzeżony");
      fill(row, "caller_name", w.caller_name || "");
      row._waitedS = w.waited_s;
      waiting.appendChild(row);
    }
    $("wait-empty").hidden = list.length > 0;
  }

  function tick() {
    if (!current) { return; }
    const gone = elapsed();
    for (const row of waiting.children) {
      row.querySelector('[data-f="time"]').textContent = clock(row._waitedS + gone);
    }
    for (const card of operators.children) {
      card.querySelector('[data-f="time"]').textContent = card._forS === null || card._forS === undefined ? "" : clock(card._forS + gone);
    }
    const longest = current.longest_wait_s;
    $("c-longest").textContent = longest === null || longest === undefined ? "–" : clock(longest + gone);
  }

  function apply(picture) {
    if (!picture || picture.kind !== "wallboard") { return; }
    if (picture.live && picture.version < version) { return; }
    version = picture.live ? picture.version : version;
    current = picture;
    receivedAt = performance.now();
    counts = picture.counts || counts;
    showCounts(counts, picture);
    showOperators(picture.operators);
    showWaiting(picture.waiting);
    document.body.dataset.wallVersion = String(picture.version);
    showLink();
    tick();
  }

  let socket = null;
  let socketOpen = false;
  let attempt = 0;

  async function snapshot() {
    let answer;
    try {
      const response = await fetch("/api/wallboard", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.status === 401) { location.assign("/login"); return; }
      answer = response.ok ? await response.json() : null;
    } catch (e) { answer = null; }
    if (answer) { apply(answer); } else { setLink("closed", "Nie udało się wczytać tablicy: ponawiam…"); }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + location.host + "/ws/pops");
    socket.addEventListener("open", () => { attempt = 0; socketOpen = true; showLink(); });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      apply(message);
    });
    socket.addEventListener("close", (event) => {
      socketOpen = false;
      if (event.code === 4401) { location.assign("/login"); return; }
      const delay = Math.min(10000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      attempt += 1;
      setLink("closed", "Brak połączenia z serwerem: ponawiam za " + Math.round(delay / 1000) + " s…");
      // The server may have restarted (its versions count anew): take its snapshot as it is.
      setTimeout(async () => { version = -1; await snapshot(); connect(); }, delay);
    });
  }

  setInterval(tick, 1000);
  snapshot().then(connect);
})();
