// The operator's live screen: pops from /ws/pops, one card per call (keyed by linkedid).
// Everything from outside is written with textContent, never as HTML.
// Extension point: every change dispatches `pop:update` on document with
// {linkedid, pop, card}; picking a contract dispatches `pop:contract` with {linkedid, contract, card}.
// Each card's <section data-slot="ticket"> is where the ticket form goes (tickets.js).
"use strict";
(function () {
  const words = JSON.parse(document.getElementById("words").textContent);
  const popsBox = document.getElementById("pops");
  const idle = document.getElementById("idle");
  const linkState = document.getElementById("link-state");
  const popTemplate = document.getElementById("pop-template");
  const contractTemplate = document.getElementById("contract-template");
  const cards = new Map();
  const CLOSE_AFTER_MS = 8000;
  const timeFormat = new Intl.DateTimeFormat("pl-PL", {
    timeZone: "Europe/Warsaw", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const dayFormat = new Intl.DateTimeFormat("pl-PL", {
    timeZone: "Europe/Warsaw", year: "numeric", month: "2-digit", day: "2-digit",
  });

  function field(root, name) { return root.querySelector('[data-f="' + name + '"]'); }
  function setText(root, name, text) { const el = field(root, name); if (el) el.textContent = text == null ? "" : String(text); }
  function when(iso) { const d = new Date(iso); return isNaN(d) ? "" : timeFormat.format(d); }
  function day(iso) {
    if (!iso) return "";
    const d = new Date(iso.length === 10 ? iso + "T12:00:00Z" : iso);
    return isNaN(d) ? iso : dayFormat.format(d);
  }
  function item(list, text) { const li = document.createElement("li"); li.textContent = text; list.appendChild(li); return li; }

  function extensionText(e) {
    const cause = words.extension_causes[e.cause] || e.cause;
    if (e.closure) {
      return cause + " " + day(e.closure.first) + "–" + day(e.closure.last) + (e.closure.note ? " (" + e.closure.note + ")" : "");
    }
    return cause + (e.ticket_id != null ? " na zgłoszenie #" + e.ticket_id : "");
  }

  function fillContract(section, c) {
    setText(section, "customer", c.customer);
    setText(section, "number", c.number);
    setText(section, "plan", words.plans[c.plan] || c.plan);
    setText(section, "product", c.installation ? c.installation.product : "");
    const link = field(section, "site_url");
    const url = c.installation ? c.installation.site_url : "";
    link.textContent = url;
    if (/^https?:\/\//i.test(url)) link.href = url; else link.removeAttribute("href");
    setText(section, "effective_until", day(c.effective_until));
    setText(section, "paid_until_note",
      c.paid_until && c.paid_until !== c.effective_until ? "(opłacona do " + day(c.paid_until) + ", przedłużona)" : "");
    const ext = field(section, "extensions");
    ext.replaceChildren();
    for (const e of c.extensions || []) {
      item(ext, "+" + e.days + " dn.: " + extensionText(e));
    }
    const a = c.allowance || {};
    setText(section, "allowance", "wykorzystano " + (a.used ?? "?") + " z " + (a.budget ?? "?") + ", zostało " + (a.left ?? "?"));
    field(section, "allowance").dataset.left = String(a.left ?? "");
    const tickets = field(section, "open_tickets");
    tickets.replaceChildren();
    for (const t of c.open_tickets || []) item(tickets, "#" + t.id + " " + (words.kinds[t.kind] || t.kind) + (t.description ? ": " + t.description : ""));
    if (!(c.open_tickets || []).length) item(tickets, "brak").classList.add("none");
    const callbacks = field(section, "callbacks");
    callbacks.replaceChildren();
    for (const b of c.callbacks || []) item(callbacks, b.number + " · " + b.calls + "× · do " + day(b.due) + " " + when(b.due));
    if (!(c.callbacks || []).length) item(callbacks, "brak").classList.add("none");
  }

  // The calls this tab dismissed (not shown again when the server replays them).
  function dismissed() {
    try { return JSON.parse(sessionStorage.getItem("dismissed-pops") || "[]"); } catch (e) { return []; }
  }
  function remember(linkedid) {
    const kept = dismissed().filter((id) => id !== linkedid).slice(-199);
    try { sessionStorage.setItem("dismissed-pops", JSON.stringify([...kept, linkedid])); } catch (e) { /* full: no memory */ }
  }

  function newCard(linkedid) {
    const card = popTemplate.content.firstElementChild.cloneNode(true);
    card.dataset.linkedid = linkedid;
    card.querySelector('[data-action="dismiss"]').addEventListener("click", () => {
      remember(linkedid);
      removeCard(linkedid);
    });
    cards.set(linkedid, card);
    popsBox.prepend(card);
    return card;
  }

  function removeCard(linkedid) {
    const card = cards.get(linkedid);
    if (!card) return;
    clearTimeout(card._closeTimer);
    card.remove();
    cards.delete(linkedid);
    idle.hidden = cards.size > 0;
  }

  function pick(card, number) {
    card.dataset.contract = number;
    for (const s of card.querySelectorAll(".contract")) {
      const chosen = s.dataset.number === number;
      s.classList.toggle("chosen", chosen);
      const button = s.querySelector('[data-action="pick"]');
      button.textContent = chosen ? "Wybrana umowa ✓" : "Wybierz tę umowę";
      button.disabled = chosen;
    }
    field(card, "choose").hidden = true;
    card.classList.add("picked");
    document.dispatchEvent(new CustomEvent("pop:contract", { detail: { linkedid: card.dataset.linkedid, contract: number, card } }));
  }

  function fillInfo(card, pop) {
    if (pop.call_id != null) card.dataset.callId = String(pop.call_id);
    if (pop.route) setText(card, "route", words.routes[pop.route] || pop.route);
    if (pop.reason) setText(card, "reason", words.reasons[pop.reason] || pop.reason);
    const list = pop.contracts || [];
    const box = field(card, "contracts");
    box.replaceChildren();
    for (const c of list) {
      const section = contractTemplate.content.firstElementChild.cloneNode(true);
      section.dataset.number = c.number;
      fillContract(section, c);
      const button = section.querySelector('[data-action="pick"]');
      if (list.length > 1) { button.hidden = false; button.addEventListener("click", () => pick(card, c.number)); }
      box.appendChild(section);
    }
    field(card, "choose").hidden = list.length < 2;
    field(card, "nocontract").hidden = list.length > 0;
    if (pop.contract) card.dataset.contract = pop.contract.number;
    card.dataset.hasInfo = "1";
  }

  function show(pop) {
    if (!pop || !pop.linkedid) return;
    let card = cards.get(pop.linkedid);
    if (!card) {
      // Nothing of it on screen: only a new call opens a card, or, on a (re)connect, a call
      // that ended with its ticket unsaved (unless this tab dismissed it).
      const unsaved = pop.kind === "ended" && pop.replay && !dismissed().includes(pop.linkedid);
      if (pop.kind !== "ringing" && pop.kind !== "answered" && !unsaved) return;
      card = newCard(pop.linkedid);
    }
    clearTimeout(card._closeTimer);
    card.dataset.kind = pop.kind;
    if ("caller_name" in pop) setText(card, "caller_name", pop.caller_name);
    if ("caller" in pop) setText(card, "caller", pop.caller || "numer zastrzeżony");
    setText(card, "at", when(pop.at));
    const state = words.pop_states[pop.kind] || pop.kind;
    setText(card, "state", state.replace("{who}", pop.operator || "inny operator"));
    if ("contracts" in pop || "route" in pop) fillInfo(card, pop);
    const dismiss = card.querySelector('[data-action="dismiss"]');
    dismiss.hidden = !(pop.kind === "ended" || pop.kind === "taken" || pop.kind === "missed");
    if (pop.kind === "taken" || pop.kind === "missed") {
      card.classList.add("closing");
      card._closeTimer = setTimeout(() => removeCard(pop.linkedid), CLOSE_AFTER_MS);
    } else {
      card.classList.remove("closing");
    }
    idle.hidden = cards.size > 0;
    document.dispatchEvent(new CustomEvent("pop:update", { detail: { linkedid: pop.linkedid, pop, card } }));
  }

  let socket = null;
  let attempt = 0;
  function setLink(state, text) { linkState.dataset.state = state; linkState.textContent = text; }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + location.host + "/ws/pops");
    socket.addEventListener("open", () => { attempt = 0; setLink("open", "Połączono: czekam na połączenia."); });
    socket.addEventListener("message", (event) => {
      let pop;
      try { pop = JSON.parse(event.data); } catch (e) { return; }
      show(pop);
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) { location.assign("/login"); return; }
      const delay = Math.min(10000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      attempt += 1;
      setLink("closed", "Brak połączenia z serwerem: ponawiam za " + Math.round(delay / 1000) + " s…");
      setTimeout(connect, delay);
    });
  }

  window.callcenterPops = { cards, show, fillContract, removeCard, socket: () => socket };
  connect();
})();
