/* sbl store: where a participant's data live on their machine, and how they leave it.
 *
 * Storage. One localStorage entry per run, keyed by the JSON text of
 * ["run", page name, page version, mode, participant]: JSON quotes every part, so no
 * participant id (quotes, colons, "@anonymous" included) can name another run's entry. An
 * anonymous visitor's random id lives under ["anonymous", page name, mode]. While a run runs,
 * its entry holds what resuming needs; once it ends, the cursor goes (only the data stay), and
 * once its data are delivered the entry shrinks to a marker that makes a reopened page say
 * "complete" instead of starting over.
 *
 * Delivered means, per sink: a POST to post_url answered 2xx, or JATOS's submitResultData
 * resolved. A download cannot be confirmed (the participant may delete the file), so a run
 * whose data only went to the downloads keeps its data until storage is needed: a new run of
 * the same page, or a full quota, shrinks it to a marker. A run that was to be sent and was
 * not keeps its data, and the page re-sends them when it is opened again.
 */
(function () {
  "use strict";

  const PREFIX = "sbl:";
  const BACKOFF_MS = [1000, 2000, 4000]; // waits between the 4 tries of a sink
  const TIMEOUT_MS = 20000; // one try of a sink that does not answer

  function runKey(page, mode, participant) {
    return PREFIX + JSON.stringify(["run", page.name, page.key, mode, participant]);
  }

  function anonymousKey(page, mode) {
    return PREFIX + JSON.stringify(["anonymous", page.name, mode]);
  }

  /** The parts of a key this file wrote, or null. */
  function parseKey(key) {
    if (typeof key !== "string" || !key.startsWith(PREFIX)) return null;
    try {
      const parts = JSON.parse(key.slice(PREFIX.length));
      return Array.isArray(parts) ? parts : null;
    } catch (err) {
      return null;
    }
  }

  function isQuota(err) {
    return err && (err.name === "QuotaExceededError" || err.code === 22 || err.code === 1014);
  }

  /** localStorage for one page and mode; `state` says whether progress can be stored:
   * "ok", "unavailable" (private mode, a policy) or "full" (the quota is reached). */
  class Store {
    constructor(page, mode) {
      this.page = page;
      this.mode = mode;
      this.ls = probe();
      this.state = this.ls ? "ok" : "unavailable";
    }

    read(key) {
      if (!this.ls) return null;
      try {
        return JSON.parse(this.ls.getItem(key) || "null");
      } catch (err) {
        return null;
      }
    }

    /** Write `value` under `key`; on a full quota, shrink finished downloaded runs and try
     * once more. Returns whether it was stored, and updates `state`. */
    write(key, value) {
      if (!this.ls) return false;
      const text = JSON.stringify(value);
      for (let tries = 0; tries < 2; tries += 1) {
        try {
          this.ls.setItem(key, text);
          this.state = "ok";
          return true;
        } catch (err) {
          if (!isQuota(err) || tries === 1 || !this.shrinkDownloaded(key)) break;
        }
      }
      this.state = "full";
      return false;
    }

    remove(key) {
      try {
        if (this.ls) this.ls.removeItem(key);
      } catch (err) { /* nothing stored to remove */ }
    }

    /** Every run entry of this page and mode: {key, version, participant, st}. */
    runs() {
      const out = [];
      if (!this.ls) return out;
      for (let i = 0; i < this.ls.length; i += 1) {
        const key = this.ls.key(i);
        const k = parseKey(key);
        if (!k || k[0] !== "run" || k[1] !== this.page.name || k[3] !== this.mode) continue;
        const st = this.read(key);
        if (st) out.push({ key, version: k[2], participant: k[4], st });
      }
      return out;
    }

    /** Shrink every finished run whose data only went to the downloads (of any sbl page,
     * but `keep`) to a marker; returns whether any was shrunk. */
    shrinkDownloaded(keep) {
      if (!this.ls) return false;
      let shrunk = false;
      const keys = [];
      for (let i = 0; i < this.ls.length; i += 1) keys.push(this.ls.key(i));
      for (const key of keys) {
        const k = parseKey(key);
        if (!k || k[0] !== "run" || key === keep) continue;
        const st = this.read(key);
        if (st && st.done && st.delivered === "downloaded" && st.data) {
          this.ls.setItem(key, JSON.stringify(marker(st)));
          shrunk = true;
        }
      }
      return shrunk;
    }
  }

  function probe() {
    try {
      const s = window.localStorage;
      s.setItem("sbl:probe", "1");
      s.removeItem("sbl:probe");
      return s;
    } catch (err) {
      return null;
    }
  }

  /** What stays of a delivered run: enough to say it is complete, and for whom. */
  function marker(st) {
    return {
      version: st.version, participant: st.participant, seed: st.seed, done: st.done,
      ended: true, delivered: st.delivered, data: null,
    };
  }

  // ------------------------------------------------------------ delivery

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Try `send` (resolves true on success) up to 4 times with growing waits; `progress(n)`
   * is told before each retry. Resolves whether it succeeded. */
  async function withRetries(send, progress) {
    for (let attempt = 0; attempt <= BACKOFF_MS.length; attempt += 1) {
      if (attempt > 0) {
        progress(attempt + 1, BACKOFF_MS.length + 1);
        await sleep(BACKOFF_MS[attempt - 1]);
      }
      try {
        if (await send()) return true;
      } catch (err) {
        console.warn(`sbl: sending the data failed: ${err}`);
      }
    }
    return false;
  }

  /** POST `json` to `url`; true on a 2xx answer. A sink that does not answer is given up
   * after TIMEOUT_MS, so a slow server cannot keep the participant waiting for ever. */
  async function post(url, json) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: json,
        signal: abort.signal,
      });
      if (!response.ok) console.warn(`sbl: ${url} answered ${response.status}`);
      return response.ok;
    } finally {
      clearTimeout(timer);
    }
  }

  async function jatos(json) {
    await Promise.resolve(window.jatos.submitResultData(json));
    return true;
  }

  /** The sinks a page sends to: [{name, send(json)}]; empty when the data only download. */
  function sinks(postUrl) {
    const out = [];
    if (postUrl) out.push({ name: "the server", send: (json) => post(postUrl, json) });
    if (window.jatos && typeof window.jatos.submitResultData === "function") {
      out.push({ name: "JATOS", send: jatos });
    }
    return out;
  }

  /** Send `json` to every sink, with retries; resolves whether all of them took it. */
  async function sendAll(list, json, progress) {
    let all = true;
    for (const sink of list) {
      all = (await withRetries(() => sink.send(json), progress)) && all;
    }
    return all;
  }

  window.SblStore = { Store, runKey, anonymousKey, marker, sinks, sendAll };
})();
