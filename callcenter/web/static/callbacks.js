// The callbacks this operator has to return (GET /api/callbacks): by due time, overdue and
// asked-for (pressed 1 in the queue) ones marked. "Oddzwoń" asks the server to place the call
// (POST /api/callbacks/{id}/call: the operator's phone rings first, then the customer's);
// the row follows the attempt (GET /api/callbacks/{id}) until its result is in: a reached
// customer closes the callback, a failed attempt keeps it open with the attempt counted.
"use strict";
(function () {
  const api = window.callcenterApi;
  const words = JSON.parse(document.getElementById("words").textContent);
  const list = document.getElementById("callback-list");
  const state = document.getElementById("callbacks-state");
  const template = document.getElementById("callback-template");
  const REFRESH_MS = 30000;
  const FOLLOW_MS = 1000;
  const FOLLOW_MAX = 180; // polls of one attempt (3 minutes)
  const rows = new Map(); // callback id -> <li>
  const followed = new Set();
  let asked = 0; // refreshes asked for, in order
  let shown = 0; // the latest of them whose answer is on the list
  const format = new Intl.DateTimeFormat("pl-PL", {
    timeZone: "Europe/Warsaw", day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
  });

  function field(root, name) { return root.querySelector('[data-f="' + name + '"]'); }
  function set(root, name, text) { field(root, name).textContent = text == null ? "" : String(text); }
  function when(iso) { const d = new Date(iso); return isNaN(d) ? "" : format.format(d); }
  function result(code) { return words.attempt_results[code] || code; }

  function fill(row, c) {
    row.dataset.id = String(c.id);
    set(row, "number", c.number);
    set(row, "due", when(c.due));
    set(row, "contract", c.contract || "brak");
    set(row, "calls", c.calls);
    set(row, "attempts", c.attempts);
    field(row, "overdue").hidden = !c.overdue;
    field(row, "requested").hidden = !c.requested;
    row.classList.toggle("overdue", !!c.overdue);
    row.classList.toggle("requested", !!c.requested);
    const button = row.querySelector('[data-action="call"]');
    if (c.done) {
      row.dataset.state = "done";
      const text = c.last_result === "reached" ? result("reached") : "zamknięte";
      set(row, "result", text.charAt(0).toUpperCase() + text.slice(1) + ".");
      button.hidden = true;
    } else if (c.under_way) {
      row.dataset.state = "calling";
      set(row, "result", "Dzwonię: najpierw Twój telefon, potem klient…");
      button.disabled = true;
    } else {
      row.dataset.state = "open";
      set(row, "result", c.last_result ? "Ostatnia próba: " + result(c.last_result) + "." : "");
      button.disabled = false;
      button.textContent = c.attempts || c.last_result ? "Oddzwoń ponownie" : "Oddzwoń";
    }
    if (c.under_way && !followed.has(c.id)) follow(c.id);
  }

  function row(c) {
    let li = rows.get(c.id);
    if (!li) {
      li = template.content.firstElementChild.cloneNode(true);
      li.querySelector('[data-action="call"]').addEventListener("click", () => callBack(c.id));
      rows.set(c.id, li);
    }
    fill(li, c);
    return li;
  }

  async function refresh() {
    const seq = ++asked;
    const answer = await api("GET", "/api/callbacks");
    // Answers may come back out of order (a poll and a refresh after a call overlap): an
    // older one would take callbacks added since off the list.
    if (seq < shown) return;
    shown = seq;
    if (!answer.ok) {
      state.dataset.state = "error";
      state.textContent = "Nie udało się wczytać listy oddzwonień (błąd " + answer.status + ").";
      return;
    }
    // Kept below the open ones: those returned this session (done), and those whose attempt
    // is followed (closed by it: the follow shows its result, when its next poll comes).
    const open = new Set(answer.data.map((c) => c.id));
    const kept = [...rows.values()].filter((li) => {
      const id = Number(li.dataset.id);
      return !open.has(id) && (li.dataset.state === "done" || followed.has(id));
    });
    list.replaceChildren(...answer.data.map(row), ...kept);
    for (const [id, li] of rows) if (!li.isConnected) rows.delete(id);
    state.dataset.state = answer.data.length ? "ready" : "empty";
    state.textContent = answer.data.length ? "" : "Brak oddzwonień do wykonania.";
  }

  function say(li, text) { set(li, "result", text); }

  async function callBack(id) {
    const li = rows.get(id);
    const button = li.querySelector('[data-action="call"]');
    button.disabled = true;
    li.dataset.state = "calling";
    say(li, "Dzwonię: najpierw Twój telefon, potem klient…");
    const answer = await api("POST", "/api/callbacks/" + id + "/call");
    if (answer.status === 202) { follow(id); return; }
    li.dataset.state = "open";
    button.disabled = false;
    if (answer.status === 503) say(li, "Oddzwanianie niedostępne: serwer nie ma połączenia z centralą (działa bez `callcenter serve` albo centrala nie odpowiada).");
    else if (answer.status === 409) say(li, "Nie można teraz oddzwonić: to oddzwonienie jest zakończone albo właśnie trwa.");
    else if (answer.status === 502) say(li, "Centrala nie przyjęła połączenia: spróbuj ponownie.");
    else say(li, "Nie udało się oddzwonić (błąd " + answer.status + ").");
  }

  async function follow(id) {
    followed.add(id);
    try {
      for (let i = 0; i < FOLLOW_MAX; i++) {
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_MS));
        const answer = await api("GET", "/api/callbacks/" + id);
        const li = rows.get(id);
        if (!answer.ok || !li) return;
        fill(li, answer.data);
        if (!answer.data.under_way) return;
      }
    } finally {
      followed.delete(id);
    }
  }

  document.addEventListener("pop:update", (e) => {
    const kind = e.detail.pop.kind;
    if (kind === "ended" || kind === "missed") setTimeout(refresh, 1500); // the listener's callback first
  });
  window.callcenterCallbacks = { refresh };
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
