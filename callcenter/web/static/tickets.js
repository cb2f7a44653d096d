// The ticket of a call, taken while talking: a form in the call's pop (once answered here),
// the clause checks shown as it is filled (POST /api/tickets/checks, debounced), saved with
// POST /api/tickets (linked to the call); the contract's figures on the pop are then
// refreshed from the answer. Access data is sent once and never comes back, except by the
// audited "Pokaż dane dostępowe" (POST /api/tickets/{id}/reveal).
// An ended call's pop stays until its ticket is saved or it is dismissed.
"use strict";
(function () {
  const api = window.callcenterApi;
  const pops = window.callcenterPops;
  const words = JSON.parse(document.getElementById("words").textContent);
  const formTemplate = document.getElementById("ticket-template");
  const savedTemplate = document.getElementById("ticket-saved-template");
  const DEBOUNCE_MS = 300;
  const FIELD_ERRORS = {
    kind: "Wybierz rodzaj zgłoszenia.",
    contract: "Nie ma umowy o tym numerze: popraw numer umowy.",
    call_id: "Tego połączenia nie ma w rejestrze.",
  };

  function field(root, name) { return root.querySelector('[data-f="' + name + '"]'); }
  function fieldName(name) { return words.fields[name] || name; }

  function installationUrl(card, number) {
    for (const s of card.querySelectorAll(".contract")) {
      if (s.dataset.number === number) {
        const link = s.querySelector('[data-f="site_url"]');
        return link ? link.textContent : "";
      }
    }
    return "";
  }

  function draft(card, form) {
    const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
    const access = {};
    for (const input of form.querySelectorAll("[data-access]")) {
      const v = input.value.trim();
      if (v) access[input.name] = v;
    }
    const kind = form.querySelector('input[name="kind"]:checked');
    return {
      contract: value("contract"),
      site_url: value("site_url"),
      description: value("description"),
      kind: kind ? kind.value : "",
      call_id: card.dataset.callId ? Number(card.dataset.callId) : null,
      access,
    };
  }

  function showFindings(list, findings) {
    list.replaceChildren();
    for (const f of findings) {
      const li = document.createElement("li");
      li.textContent = f.text.pl;
      li.dataset.code = f.code;
      li.classList.add(f.may_skip ? "may-skip" : "note");
      list.appendChild(li);
    }
    if (!findings.length) {
      const li = document.createElement("li");
      li.className = "complete";
      li.textContent = "Zgłoszenie kompletne: spełnia warunki regulaminu.";
      list.appendChild(li);
    }
  }

  function showError(form, problem) {
    const box = field(form, "error");
    box.textContent = problem || "";
    box.hidden = !problem;
  }

  function fieldProblem(data) {
    const item = data && Array.isArray(data.detail) ? data.detail[0] : null;
    if (!item) return null;
    const name = String(item.field || "").replace(/^access\./, "");
    for (const el of document.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute("aria-invalid");
    return { name, text: FIELD_ERRORS[name] || "Popraw pole „" + fieldName(name) + "”: wartość jest błędna lub za długa." };
  }

  function markInvalid(form, name) {
    const input = form.elements[name];
    if (input && input.setAttribute) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  async function check(card, form) {
    const seq = (form._seq = (form._seq || 0) + 1);
    field(form, "checking").textContent = "Sprawdzam…";
    const answer = await api("POST", "/api/tickets/checks", draft(card, form));
    if (seq !== form._seq || !form.isConnected) return; // a newer check is under way
    field(form, "checking").textContent = "";
    if (answer.ok) {
      showFindings(field(form, "findings"), answer.data.findings);
      form.dataset.checked = String(seq);
    } else if (answer.status === 422) {
      const problem = fieldProblem(answer.data);
      if (problem) { showError(form, problem.text); markInvalid(form, problem.name); }
    }
  }

  function scheduleCheck(card, form) {
    clearTimeout(form._timer);
    showError(form, "");
    form._timer = setTimeout(() => check(card, form), DEBOUNCE_MS);
  }

  async function save(card, form) {
    clearTimeout(form._timer);
    const button = form.querySelector('[data-action="save"]');
    button.disabled = true;
    field(form, "checking").textContent = "Zapisuję…";
    const answer = await api("POST", "/api/tickets", draft(card, form));
    button.disabled = false;
    field(form, "checking").textContent = "";
    if (answer.status === 201) { saved(card, answer.data); return; }
    check(card, form); // the checks of what is in the form now (a pending one was cancelled)
    if (answer.status === 422) {
      const problem = fieldProblem(answer.data);
      showError(form, problem ? problem.text : "Popraw formularz.");
      if (problem) markInvalid(form, problem.name);
    } else if (answer.status === 409 && answer.data && answer.data.field === "access") {
      showError(form, "Nie można zaszyfrować danych dostępowych: plik klucza na serwerze jest niedostępny (administrator: CALLCENTER_SECRET_KEY_FILE).");
    } else if (answer.status === 409) {
      showError(form, "To połączenie ma już zapisane zgłoszenie.");
    } else {
      showError(form, "Nie udało się zapisać zgłoszenia (błąd " + answer.status + "): spróbuj ponownie.");
    }
  }

  function saved(card, data) {
    const ticket = data.ticket;
    const slot = card.querySelector('[data-slot="ticket"]');
    const done = savedTemplate.content.firstElementChild.cloneNode(true);
    field(done, "ticket").textContent = "#" + ticket.id;
    field(done, "kind").textContent = words.kinds[ticket.kind] || ticket.kind;
    const list = field(done, "findings");
    showFindings(list, data.findings);
    if (ticket.has_access_data) {
      field(done, "reveal").hidden = false;
      done.querySelector('[data-action="reveal"]').addEventListener("click", () => reveal(done, ticket.id));
    }
    slot.replaceChildren(done); // the form (and the access data typed in it) is gone
    card.dataset.ticket = String(ticket.id);
    if (data.contract) {
      const section = card.querySelector('.contract[data-number="' + CSS.escape(data.contract.number) + '"]');
      if (section) pops.fillContract(section, data.contract);
    }
    if (card.dataset.kind === "ended") pops.removeCard(card.dataset.linkedid);
  }

  async function reveal(done, ticketId) {
    const box = field(done, "revealed");
    const error = field(done, "reveal-error");
    const button = done.querySelector('[data-action="reveal"]');
    if (!box.hidden) { box.hidden = true; box.replaceChildren(); button.textContent = "Pokaż dane dostępowe"; return; }
    const answer = await api("POST", "/api/tickets/" + ticketId + "/reveal");
    if (!answer.ok) {
      error.textContent = answer.status === 409
        ? "Nie można odszyfrować danych dostępowych: plik klucza na serwerze nie jest tym, którym je zaszyfrowano (administrator: CALLCENTER_SECRET_KEY_FILE)."
        : "Nie udało się pokazać danych dostępowych (błąd " + answer.status + ").";
      error.hidden = false;
      return;
    }
    error.hidden = true;
    box.replaceChildren();
    for (const [name, value] of Object.entries(answer.data.access)) {
      const dt = document.createElement("dt");
      dt.textContent = fieldName(name);
      const dd = document.createElement("dd");
      dd.textContent = value;
      dd.dataset.name = name;
      box.append(dt, dd);
    }
    box.hidden = false;
    button.textContent = "Ukryj dane dostępowe";
  }

  function attach(card) {
    const slot = card.querySelector('[data-slot="ticket"]');
    if (!slot || slot.firstElementChild || card.dataset.ticket) return; // no call id: saved unlinked
    const form = formTemplate.content.firstElementChild.cloneNode(true);
    const contract = card.dataset.contract || "";
    form.elements.contract.value = contract;
    form.elements.site_url.value = contract ? installationUrl(card, contract) : "";
    for (const name of ["contract", "site_url"]) {
      form.elements[name].addEventListener("input", () => { form.elements[name].dataset.touched = "1"; });
    }
    form.addEventListener("input", () => scheduleCheck(card, form));
    form.addEventListener("change", (event) => {
      if (event.target.name === "kind" && event.target.value === "action") form.querySelector("details.access").open = true;
      scheduleCheck(card, form);
    });
    form.addEventListener("submit", (event) => { event.preventDefault(); save(card, form); });
    slot.replaceChildren(form);
    check(card, form);
  }

  function picked(card, number) {
    const form = card.querySelector("form.ticket");
    if (!form) return;
    if (!form.elements.contract.dataset.touched) form.elements.contract.value = number;
    if (!form.elements.site_url.dataset.touched) form.elements.site_url.value = installationUrl(card, number);
    scheduleCheck(card, form);
  }

  function update(card, pop) {
    // This screen's phone answered (the operator talks), or a call ended unsaved, replayed.
    if (pop.kind === "answered" || (pop.kind === "ended" && pop.replay)) attach(card);
    if (pop.kind === "ended" && card.dataset.ticket) pops.removeCard(card.dataset.linkedid);
  }

  document.addEventListener("pop:update", (e) => update(e.detail.card, e.detail.pop));
  document.addEventListener("pop:contract", (e) => picked(e.detail.card, e.detail.contract));
  for (const card of pops.cards.values()) {
    if (card.dataset.kind === "answered" || card.dataset.kind === "ended") attach(card);
  }
})();
