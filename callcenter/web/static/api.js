// JSON calls to the app's own API with the session cookie and the page's CSRF token.
// `callcenterApi(method, path, body)` resolves to {ok, status, data} (never rejects on an
// HTTP error; a network failure gives status 0).
"use strict";
(function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";
  window.callcenterApi = async function (method, path, body) {
    const init = {
      method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try { response = await fetch(path, init); } catch (e) { return { ok: false, status: 0, data: null }; }
    if (response.status === 401) { location.assign("/login"); }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { ok: response.ok, status: response.status, data };
  };
})();
