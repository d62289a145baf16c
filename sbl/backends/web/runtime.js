/* sbl runtime: runs the experiment embedded in this page with jsPsych 8.
 *
 * The page carries data, never generated code (DESIGN decision 2): the checked IR, the
 * declarations of the stimulus kinds it uses and a few page facts, all in the JSON element
 * #sbl-ir. This file walks the IR's blocks itself with an explicit cursor (a stack of plain
 * JSON frames), so that the whole run state can be stored after every trial and a reopened
 * tab resumes exactly where it stopped. Expressions are evaluated by expr.js (SblExpr), the
 * twin of sbl/evaluate.py, with one seeded PRNG per participant.
 *
 * jsPsych sees one trial at a time: when an sbl trial finishes, its on_finish appends the
 * next trial to the root timeline array, which jsPsych 8 iterates live (Timeline.run walks
 * description.timeline with for...of). A trial's parameters are evaluated once, when jsPsych
 * asks for its first parameter at trial start, and those values are the ones recorded.
 */
(function () {
  "use strict";

  const STORE_VERSION = 2;
  const X = window.SblExpr;
  const O = window.SblOrder; // constrained shuffles (order.js)
  const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

  // ------------------------------------------------------------ expressions (expr.js)

  /** The value of IR expression `node` with `names` in scope; `random` false gives it no
   * random stream (data fields, like the Python runtime's). */
  function evaluate(run, node, names, random = true) {
    return X.evaluate(node, new X.Scope(names, run.prev, random ? run.rng : null));
  }

  // ------------------------------------------------------------ HTML

  const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  /** `value` as HTML text: converted like a template hole, then escaped. */
  function esc(value) {
    const text = typeof value === "string" ? value : X.show(value);
    return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
  }

  /** A style attribute setting CSS property `prop` to `value`, when it is a valid colour.
   * Only colours CSS accepts pass, so a parameter can never smuggle in url(...) or more rules. */
  function colour(prop, value) {
    const ok = typeof value === "string" && window.CSS && CSS.supports("color", value);
    return ok ? ` style="${prop}: ${esc(value)}"` : "";
  }

  // Choices that hold this answer with any key (sbl.kinds.ANY_KEY).
  const ANY_KEY = "any";

  function keys(choices) {
    if (!Array.isArray(choices) || !choices.length) return "NO_KEYS";
    return choices.includes(ANY_KEY) ? "ALL_KEYS" : choices;
  }

  function ms(value) {
    return value === undefined ? null : value;
  }

  // ------------------------------------------------------------ media files

  /** The URL of media file `path`, as the .sbl names it (relative to the .sbl file): its
   * data inlined into the page, or the copy beside it (sbl compile --media). Rows record
   * `path`, never the URL. The checker listed every path a trial can name, so one that is
   * not on the page is an error in the page, not in the participant's run. */
  function media(path) {
    const urls = PAGE.media.urls;
    if (typeof path !== "string" || !hasOwn(urls, path)) {
      throw new Error(`the media file ${JSON.stringify(path)} is not on this page`);
    }
    return urls[path];
  }

  let MEDIA_PATHS = null; // URL -> path as written, built on first use

  /** The path as written of each media URL on the page (videoUrl adds the blob: URLs). */
  function pathsByUrl() {
    if (MEDIA_PATHS === null) {
      MEDIA_PATHS = new Map(Object.entries(PAGE.media.urls).map(([p, u]) => [u, p]));
    }
    return MEDIA_PATHS;
  }

  /** `data` with every value that is a media file's URL replaced by its path as written:
   * jsPsych's media plugins record their stimulus, which would store an inlined file's
   * data in every row (and fill the browser's storage); rows carry the path instead. */
  function mediaPaths(data) {
    const paths = pathsByUrl();
    if (!paths.size) return;
    const path = (v) => (typeof v === "string" && paths.has(v) ? paths.get(v) : v);
    for (const [name, value] of Object.entries(data)) {
      data[name] = Array.isArray(value) ? value.map(path) : path(value); // videos: a list
    }
  }

  /** The jsPsych trial that loads every media file before the first trial (jsPsych's
   * preload plugin, with a progress bar), or null when the page has none. If a file fails,
   * the participant reads which, and the run does not go on without it. */
  function preloadTrial(run) {
    const lists = PAGE.media.preload;
    const n = ["images", "audio", "video"].reduce((k, c) => k + (lists[c] || []).length, 0);
    if (!n) return null;
    const paths = {};
    for (const [path, url] of Object.entries(PAGE.media.urls)) paths[url] = path;
    const failed = [];
    const urls = (c) => (lists[c] || []).map(media);
    return {
      type: plugin("preload"),
      images: urls("images"), audio: urls("audio"), video: urls("video"),
      message: `<p class="sbl-text">Loading ${n} media file${n === 1 ? "" : "s"}…</p>`,
      show_progress_bar: true,
      continue_after_error: false,
      error_message: '<div class="sbl-message sbl-error" id="sbl-media-error">This ' +
        "experiment could not load all of its media files, so it cannot go on. Please " +
        "reload the page; if that does not help, tell the researcher.</div>",
      on_error: (url) => {
        failed.push(hasOwn(paths, url) ? paths[url] : String(url));
        console.error(`sbl: could not load the media file ${failed[failed.length - 1]}`);
        setTimeout(() => { // after the plugin has shown error_message
          const box = document.getElementById("sbl-media-error");
          if (box) box.dataset.failed = failed.join(", ");
          if (box) box.textContent = box.textContent.replace(/( Files:.*)?$/,
            ` Files: ${failed.join(", ")}.`);
        }, 0);
      },
      record_data: false,
    };
  }

  // ------------------------------------------------------------ stimulus kinds
  // One entry per kind: `params(t)` returns the plugin's parameters from the trial `t`
  // (t.p: the resolved sbl parameters; t.text(name): a parameter as HTML: escaped, or for
  // an `html` parameter the markup its author wrote, with computed values escaped).
  // Optional: `response(data, t)` turns jsPsych's data into the sbl response;
  // `follow(t, row)` returns extra, unrecorded jsPsych trials to run after it.
  // The plugin is the one the kind's declaration names. Adding a kind: one declaration in
  // stdlib/kinds plus one entry here.

  const KINDS = {
    text: {
      params: (t) => ({
        stimulus: `<div class="sbl-text"${colour("color", t.p.color)}>${t.text("text")}</div>`,
        choices: keys(t.p.choices),
        trial_duration: ms(t.p.duration),
        stimulus_duration: ms(t.p.stimulus_duration),
      }),
    },
    html_keyboard: {
      params: (t) => ({
        stimulus: t.text("stimulus"),
        choices: keys(t.p.choices),
        trial_duration: ms(t.p.duration),
        stimulus_duration: ms(t.p.stimulus_duration),
      }),
    },
    fixation: {
      params: (t) => ({
        stimulus: '<div class="sbl-fixation">+</div>',
        choices: "NO_KEYS",
        trial_duration: ms(t.p.duration),
      }),
    },
    blank: {
      params: (t) => ({ stimulus: "", choices: "NO_KEYS", trial_duration: ms(t.p.duration) }),
    },
    feedback: {
      params: (t) => {
        const ok = X.truthy(t.p.correct);
        const text = ok ? t.text("correct_text") : t.text("incorrect_text");
        const style = colour("color", ok ? t.p.correct_color : t.p.incorrect_color);
        return {
          stimulus: `<div class="sbl-text"${style}>${text}</div>`,
          choices: "NO_KEYS",
          trial_duration: ms(t.p.duration),
        };
      },
    },
    choice: {
      params: (t) => ({
        stimulus: `<div class="sbl-text">${t.text("stimulus")}</div>`,
        choices: t.p.choices.map((c) => esc(c)),
        button_html: button,
        trial_duration: ms(t.p.duration),
        stimulus_duration: ms(t.p.stimulus_duration),
      }),
    },
    audio_keyboard: {
      params: (t) => ({
        stimulus: media(t.p.src),
        choices: keys(t.p.choices),
        trial_duration: ms(t.p.duration),
        trial_ends_after_audio: t.p.ends_after_audio,
      }),
    },
    audio_button: {
      params: (t) => ({
        stimulus: media(t.p.src),
        choices: t.p.choices.map((c) => esc(c)),
        button_html: button,
        trial_duration: ms(t.p.duration),
        trial_ends_after_audio: t.p.ends_after_audio,
      }),
    },
    video_keyboard: {
      params: (t) => ({
        stimulus: [videoUrl(t.p.src)],
        width: null, // the video's own size (the plugin's default "" draws a warning)
        height: null,
        choices: keys(t.p.choices),
        trial_duration: ms(t.p.duration),
        trial_ends_after_video: t.p.ends_after_video,
      }),
    },
    video_button: {
      params: (t) => ({
        stimulus: [videoUrl(t.p.src)],
        choices: t.p.choices.map((c) => esc(c)),
        button_html: button,
        trial_duration: ms(t.p.duration),
        trial_ends_after_video: t.p.ends_after_video,
      }),
    },
    bandit: {
      params: (t) => ({
        stimulus: forcedInRange(t, t.p.arms.length),
        choices: t.p.arms.map((_, i) => String(i + 1)),
        button_html: (_, i) => machine("button", t, i, "", "", !isFree(t, i)),
        trial_duration: ms(t.p.duration),
      }),
      // An instructed (forced) trial: only that machine can be chosen. jsPsych's simulation
      // picks among all buttons, so the recorded choice is the instructed one whatever it
      // picked (as in a live run, where the other buttons are disabled).
      response: (data, t) => (data.response === undefined || data.response === null ? null :
        (t.p.forced === null ? data.response : t.p.forced)),
      // The chosen machine's value, shown for feedback_duration on a screen of its own.
      follow: (t, row) => {
        if (row.response === null || !(t.p.feedback_duration > 0)) return [];
        const arms = t.p.arms.map((arm, i) => {
          const chosen = i === row.response;
          return machine("div", t, i, chosen ? esc(arm.value) : "", chosen ? "" : "sbl-other");
        });
        return [{
          type: plugin("html-keyboard-response"),
          stimulus: `<div class="sbl-bandits">${arms.join("")}</div>`,
          choices: "NO_KEYS",
          trial_duration: t.p.feedback_duration,
          record_data: false,
        }];
      },
    },
    image_keyboard: {
      params: (t) => ({
        stimulus: media(t.p.src),
        stimulus_width: ms(t.p.width),
        stimulus_height: ms(t.p.height),
        render_on_canvas: false, // an <img>: its pixels are the file's, at any zoom
        choices: keys(t.p.choices),
        trial_duration: ms(t.p.duration),
        stimulus_duration: ms(t.p.stimulus_duration),
      }),
    },
    image_button: {
      params: (t) => ({
        stimulus: media(t.p.src),
        stimulus_width: ms(t.p.width),
        stimulus_height: ms(t.p.height),
        render_on_canvas: false,
        choices: t.p.choices.map((c) => esc(c)),
        button_html: (choice) => `<button type="button" class="jspsych-btn">${choice}</button>`,
        trial_duration: ms(t.p.duration),
        stimulus_duration: ms(t.p.stimulus_duration),
      }),
    },
    instructions: {
      params: (t) => ({
        pages: t.p.pages.map((page) => `<div class="sbl-page">${esc(page)}</div>`),
        show_clickable_nav: true,
        allow_backward: t.p.allow_backward,
      }),
    },
    likert: {
      params: (t) => ({
        questions: t.p.questions.map((q) => ({
          prompt: esc(q.prompt), labels: q.labels.map((l) => esc(l)),
        })),
        preamble: preamble(t),
      }),
    },
    multi_choice: {
      params: optionQuestions,
      // Record the option as written, whatever jsPsych recorded: see optionOf.
      response: (data, t) => perQuestion(data, t, (options, given, i) =>
        optionOf(options, given, (data.response_index || [])[i])),
    },
    multi_select: {
      params: optionQuestions,
      // As written, in their order (jsPsych's simulation: in the order drawn).
      response: (data, t) => perQuestion(data, t, (o, given) => given
        .map((v) => optionOf(o, v, -1)).sort((a, b) => o.indexOf(a) - o.indexOf(b))),
    },
    text_survey: {
      params: (t) => ({
        questions: t.p.questions.map((q) => ({ prompt: esc(q.prompt) })),
        preamble: preamble(t),
      }),
    },
    slider: {
      params: (t) => {
        const values = positions(t.p.low, t.p.high, t.p.step, t.kind.answer.bounds);
        const middle = values[Math.floor((values.length - 1) / 2)];
        return {
          stimulus: `<div class="sbl-text">${t.text("stimulus")}</div>`,
          min: t.p.low,
          max: t.p.high,
          step: t.p.step,
          slider_start: t.p.start === null ? middle : t.p.start,
          labels: t.p.anchors.map((a) => esc(a)),
          button_label: esc(t.p.button_label),
          require_movement: t.p.require_movement,
          trial_duration: ms(t.p.duration),
          stimulus_duration: ms(t.p.stimulus_duration),
        };
      },
    },
    same_different: {
      params: (t) => ({
        stimuli: [t.text("first"), t.text("second")],
        answer: t.p.answer,
        same_key: counted(t, t.p.keys)[0],
        different_key: t.p.keys[1],
        first_stim_duration: t.p.first_duration,
        gap_duration: t.p.gap_duration,
        second_stim_duration: t.p.second_duration || 0, // 0: shown until the key
      }),
    },
    serial_reaction_time: {
      params: (t) => {
        const keys = t.p.choices;
        const across = t.p.columns || keys.length;
        const rows = [];
        for (let i = 0; i < keys.length; i += across) rows.push(keys.slice(i, i + across));
        return {
          grid: rows.map((row) => row.map(() => 1)),
          choices: rows,
          target: [Math.floor(t.p.target / across), t.p.target % across],
          target_color: t.p.target_color,
          grid_square_size: t.p.square_size,
          pre_target_duration: t.p.pre_target_duration,
          trial_duration: ms(t.p.duration),
        };
      },
    },
    categorize_html: {
      params: (t) => categorize(t, `<div class="sbl-text">${t.text("stimulus")}</div>`),
    },
    categorize_image: {
      params: (t) => categorize(t, media(t.p.src)),
    },
  };

  /** The parameters of jsPsych's categorize plugins for trial `t` showing `stimulus`. The
   * plugin puts text_answer in place of "%ANS%" in the feedback; sbl has string templates
   * for that, so "%ANS%" stands for itself and a feedback text that contains it stays as
   * written. A timeout shows timeout_text, never the category's feedback. */
  function categorize(t, stimulus) {
    const say = (name, cls) => `<p class="sbl-text ${cls}">${t.text(name)}</p>`;
    return {
      stimulus,
      choices: keys(t.p.choices),
      key_answer: t.p.correct_key,
      text_answer: "%ANS%",
      correct_text: say("correct_text", "sbl-correct"),
      incorrect_text: say("incorrect_text", "sbl-incorrect"),
      timeout_message: say("timeout_text", "sbl-timeout"),
      show_stim_with_feedback: t.p.show_stimulus_with_feedback,
      show_feedback_on_timeout: false,
      force_correct_button_press: false,
      feedback_duration: t.p.feedback_duration,
      trial_duration: ms(t.p.duration),
      stimulus_duration: ms(t.p.stimulus_duration),
    };
  }

  /** The values a slider from `low` to `high` in steps of `step` takes: the twin of
   * sbl.kinds.positions, with its messages (`names`: the parameters that hold the three). */
  function positions(low, high, step, names) {
    const [lo, hi, st] = names;
    if (![low, high, step].every(Number.isInteger)) {
      throw new Error(`${lo}, ${hi} and ${st} must be whole numbers; got ` +
        `${X.show(low)}, ${X.show(high)}, ${X.show(step)}`);
    }
    if (step <= 0) throw new Error(`${st} must be more than 0; got ${step}`);
    if (high <= low) throw new Error(`${hi} must be more than ${lo}; got ${lo} ${low}, ${hi} ${high}`);
    if ((high - low) % step) {
      throw new Error(`${hi} - ${lo} (${high - low}) must be a whole number of steps of ${step}`);
    }
    const n = (high - low) / step + 1;
    if (n > MAX_POSITIONS) {
      throw new Error(`a slider has at most ${MAX_POSITIONS} positions; ${low} to ${high} ` +
        `in steps of ${step} makes ${n}`);
    }
    return Array.from({ length: n }, (_, i) => low + i * step);
  }
  const MAX_POSITIONS = 1001; // sbl.kinds.MAX_POSITIONS

  /** The slider position nearest to `value`: a real slider can stop nowhere else, but
   * jsPsych's simulated slider draws a whole number from min to max, ignoring step. */
  function nearest(value, t) {
    const bounds = t.kind.answer.bounds;
    const [low, high, step] = bounds.map((name) => t.p[name]);
    const values = positions(low, high, step, bounds);
    const i = Math.round((Number(value) - low) / step);
    return values[Math.min(values.length - 1, Math.max(0, i))];
  }

  /** One answer button; `choice` is its label as HTML (escaped by the mapping). */
  function button(choice) {
    return `<button type="button" class="jspsych-btn">${choice}</button>`;
  }

  const videoUrls = new Map(); // a video's data: URL -> the blob: URL made of it, once

  /** The URL a video plugin can play: jsPsych's video plugins take the type of a <source>
   * from the file name's extension, which a data: URL has none of (the browser then skips
   * it), but they play a blob: URL as it is (pluginAPI.getVideoBuffer). */
  function videoUrl(path) {
    const url = media(path);
    if (!url.startsWith("data:")) return url;
    if (!videoUrls.has(url)) {
      const comma = url.indexOf(",");
      const [type, ...rest] = url.slice(5, comma).split(";");
      const body = url.slice(comma + 1);
      const binary = rest.includes("base64") ? atob(body) : decodeURIComponent(body);
      const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
      const blob = URL.createObjectURL(new Blob([bytes], { type }));
      videoUrls.set(url, blob);
      pathsByUrl().set(blob, path); // jsPsych's own data record the path, as for images
    }
    return videoUrls.get(url);
  }

  /** The option a multiple-choice answer names. A click records the option as written, the
   * plugin's own simulated data records it escaped, both with a matching response_index.
   * Simulation data given per trial (simulation_options.data) may set the response alone,
   * next to a random response_index the plugin drew: then the response text decides. */
  function optionOf(options, given, index) {
    const at = index >= 0 && index < options.length ? options[index] : undefined;
    if (at !== undefined && (given === at || given === esc(at))) return at;
    if (options.includes(given)) return given;
    const escaped = options.find((o) => esc(o) === given);
    return escaped === undefined ? given : escaped;
  }

  function optionQuestions(t) {
    return {
      questions: t.p.questions.map((q) => ({
        prompt: esc(q.prompt), options: q.options.map((o) => esc(o)),
      })),
      preamble: preamble(t),
    };
  }

  /** jsPsych's survey answers, each read by `read(options, given, i)`. */
  function perQuestion(data, t, read) {
    if (!data.response) return null;
    const out = {};
    Object.keys(data.response).forEach((name, i) => {
      const q = t.p.questions[i];
      out[name] = read(q ? q.options : [], data.response[name], i);
    });
    return out;
  }

  function preamble(t) {
    return t.p.preamble === null ? null : `<div class="sbl-text">${t.text("preamble")}</div>`;
  }

  /** `items`, if it holds answer.count; else answers.py's error (counted). */
  function counted(t, items) {
    const n = t.kind.answer.count;
    if (n && items.length !== n) {
      throw new Error(`'${t.kind.answer.source}' must hold ${n} items; it holds ${items.length}`);
    }
    return items;
  }

  /** "" when bandit trial `t`'s instructed arm (`forced`) is none or one of its `n` arms;
   * else the error the text runtime raises too (sbl/backends/text/answers.py): an instructed
   * arm that does not exist stops the run in both. */
  function forcedInRange(t, n) {
    const only = t.p.forced;
    if (only !== null && only !== undefined && !(only >= 0 && only < n)) {
      throw new Error(`'forced' is ${only}, but the trial has ${n} options (0 to ${n - 1})`);
    }
    return "";
  }

  /** Whether arm `i` of bandit trial `t` may be chosen (all of them unless one is forced). */
  function isFree(t, i) {
    return t.p.forced === null || t.p.forced === i;
  }

  /** Arm `i` of bandit trial `t` (a slot machine, or what its `noun` names): a button to
   * choose it, or a div to show it; exactly one element, with the arm's mark if it has one. */
  function machine(tag, t, i, content, extra, disabled) {
    const arm = t.p.arms[i];
    const cls = extra ? `sbl-bandit ${extra}` : "sbl-bandit";
    const type = tag === "button" ? ` type="button"${disabled ? " disabled" : ""}` : "";
    const mark = arm && arm.label ? String(arm.label) : "";
    const label = ` aria-label="${esc(mark ? `${t.p.noun} ${mark}` : `${t.p.noun} ${i + 1}`)}"`;
    return `<${tag}${type} class="${cls}"${colour("--sbl-arm", arm && arm.color)}${label}>` +
      `<span class="sbl-bandit-window">${content}</span>` +
      (mark ? `<span class="sbl-bandit-label">${esc(mark)}</span>` : "") + `</${tag}>`;
  }

  /** How each answer type reads jsPsych's data; null means no response. */
  const RESPONSES = {
    none: () => null,
    key: (data, t) => (data.response === undefined || data.response === null ? null :
      keyAsWritten(t.p[t.kind.answer.source], data.response)),
    option: (data) => (data.response === undefined ? null : data.response),
    survey: (data) => (data.response === undefined ? null : data.response),
    number: (data, t) => (data.response === undefined || data.response === null ||
      !Number.isFinite(Number(data.response)) ? null : nearest(data.response, t)),
  };

  /** A pressed key as the trial's choices write it. jsPsych matches keys ignoring case (its
   * default) but records the key as pressed: "f" for a choice written "F". Text runs record
   * the choice, and data fields such as `correct` compare with it, so the page does too. */
  function keyAsWritten(choices, key) {
    if (typeof key !== "string" || !Array.isArray(choices)) return key;
    const lower = key.toLowerCase();
    const found = choices.find((c) => typeof c === "string" && c.toLowerCase() === lower);
    return found === undefined ? key : found;
  }

  // ------------------------------------------------------------ the page's data

  let PAGE = null; // the parsed #sbl-ir document

  function plugin(name) {
    const global = PAGE.page.plugins[name];
    const cls = global && window[global];
    if (!cls) throw new Error(`the jsPsych plugin ${name} is not on this page`);
    return cls.default || cls;
  }

  const ROOT_BLOCK = (body) => ({
    node: "Block", name: "", body, over: null, order: "sequential", repeat: 1,
    sample: null, condition: null, until: null, max_loops: null,
  });

  function blockAt(path) {
    let block = ROOT_BLOCK(PAGE.experiment.body);
    for (const i of path) block = block.body[i];
    return block;
  }

  // ------------------------------------------------------------ the cursor over blocks
  // st.stack holds one frame per open block (the root first): its path of body indices,
  // repetition, pass (loop iteration), the rows of this repetition, the current row and the
  // body item to run next, and where this pass's data rows start in st.rows.

  /** The names a stimulus sees: each open row (inner shadows outer), then shared variables,
   * then lets and tables, then `trials` (the rows so far): the order of
   * sbl/backends/text/runtime.py. */
  function names(run) {
    const st = run.st;
    const out = Object.assign({ trials: st.rows }, st.globals, st.shared);
    for (const f of st.stack) {
      const row = f.rows && f.row < f.rows.length ? f.rows[f.row] : null;
      if (row !== null && typeof row === "object" && !Array.isArray(row)) Object.assign(out, row);
    }
    return out;
  }

  function enter(run, path) {
    const block = blockAt(path);
    if (block.condition && !X.truthy(evaluate(run, block.condition, names(run)))) return;
    const frame = { path, rep: 0, pass: 0, start: run.st.rows.length, rows: null, row: 0, item: 0 };
    run.st.stack.push(frame);
    startRepetition(run, frame, block);
  }

  function startRepetition(run, frame, block) {
    frame.rows = null; // `over` sees the enclosing rows, not this block's last one
    frame.row = 0;
    frame.item = 0;
    if (frame.rep >= block.repeat) { // `repeat 0`: no rows, but a loop still tests `until`
      frame.rows = [];
      return;
    }
    let rows = [null]; // no `over`: the body runs once, with no columns
    if (block.over) {
      rows = evaluate(run, block.over, names(run));
      if (!Array.isArray(rows) || !rows.every((r) => X.kind(r) === "record")) {
        const err = new Error(`block '${block.name}' must go over a list of records`);
        err.span = block.over.span;
        throw err;
      }
    }
    if (block.order === "shuffle") rows = O.blockOrder(run.rng, block, rows);
    if (block.sample !== null && block.sample !== undefined) rows = rows.slice(0, block.sample);
    frame.rows = rows;
  }

  /** Whether a finished pass of `block` is the last one: `until` holds, or max_loops reached. */
  function lastPass(run, frame, block) {
    if (!block.until) return true;
    frame.pass += 1;
    const max = block.max_loops;
    if (max !== null && max !== undefined && frame.pass >= max) return true;
    const scope = Object.assign(names(run), { trials: run.st.rows.slice(frame.start) });
    return X.truthy(evaluate(run, block.until, scope));
  }

  /** Move the cursor to the next stimulus to run; returns it, or null at the end. */
  function seek(run) {
    const st = run.st;
    while (st.stack.length) {
      const f = st.stack[st.stack.length - 1];
      const block = blockAt(f.path);
      if (f.row < f.rows.length) {
        if (f.item >= block.body.length) {
          f.row += 1;
          f.item = 0;
          continue;
        }
        const item = block.body[f.item];
        if (item.node === "Stimulus") return item;
        f.item += 1; // on return to this frame, go on after the nested block
        enter(run, f.path.concat([f.item - 1]));
        continue;
      }
      f.rep += 1;
      if (f.rep < block.repeat) {
        startRepetition(run, f, block);
      } else if (!lastPass(run, f, block)) {
        f.rep = 0;
        f.start = st.rows.length;
        startRepetition(run, f, block);
      } else {
        st.stack.pop();
      }
    }
    st.done = true;
    return null;
  }

  function current(run) {
    const f = run.st.stack[run.st.stack.length - 1];
    return blockAt(f.path).body[f.item];
  }

  function blockPath(run) {
    return run.st.stack.slice(1).map((f) => blockAt(f.path).name).join("/");
  }

  /** Whether `block` can run more than one pass each time it is entered (sbl/repetitions.py
   * `repeats`). */
  function repeats(block) {
    const loops = Boolean(block.until) && block.max_loops !== 1;
    return block.repeat > 1 || (loops && block.repeat > 0);
  }

  /** The columns `pass` and `pass_path` (sbl/repetitions.py `columns`): each open block's
   * pass in its current entry, counted from 1 over its repetitions and loop passes. */
  function passColumns(run) {
    const open = run.st.stack.slice(1).map((f) => {
      const block = blockAt(f.path);
      return { block, number: f.pass * block.repeat + f.rep + 1 };
    });
    if (!open.length) return { pass: null, pass_path: "" };
    const repeating = open.filter((o) => repeats(o.block));
    return {
      pass: repeating.length ? repeating[repeating.length - 1].number : 1,
      pass_path: open.map((o) => String(o.number)).join("/"),
    };
  }

  // ------------------------------------------------------------ one trial

  /** Evaluate the stimulus's parameters (once) and build what its kind mapping needs. */
  function begin(run, stim) {
    const kind = PAGE.kinds[stim.kind];
    const declared = {};
    for (const d of kind.params) declared[d.name] = d;
    const scope = names(run);
    const p = {};
    const shown = {}; // the markup of html parameters
    // Given parameters in the order written (random draws happen in source order), then the
    // declared defaults. Parameters only text participants read (prompt) are not declared here.
    for (const param of stim.params) {
      if (!hasOwn(declared, param.name)) continue;
      if (!declared[param.name].html) {
        p[param.name] = evaluate(run, param.value, scope);
        continue;
      }
      const m = markupOf(run, param.value, scope);
      p[param.name] = m.value;
      shown[param.name] = m.markup;
    }
    for (const d of kind.params) {
      if (hasOwn(p, d.name)) continue;
      p[d.name] = d.default === undefined ? null : d.default;
      if (d.html) shown[d.name] = p[d.name] === null ? "" : String(p[d.name]);
    }
    const t = {
      stim, kind, p, block: blockPath(run), passes: passColumns(run),
      index: run.st.rows.length,
      text: (name) => (declared[name].html ? shown[name] : esc(p[name])),
      fields: customFields(run, stim), conditions: conditions(run),
    };
    withholds(p);
    t.params = KINDS[stim.kind].params(t);
    return t;
  }

  /** A trial that takes no key (or no button) as an answer (`withhold`) must end without
   * one: the twin of sbl/backends/text/answers.py `_withholds`, with its message. */
  function withholds(p) {
    if (p.withhold !== true) return;
    const ends = ["duration", "ends_after_audio", "ends_after_video"];
    if (ends.some((name) => p[name] !== undefined && p[name] !== null && p[name] !== false)) return;
    throw new Error("'withhold' is true but 'duration' is none: no answer is an answer " +
                    "only on a trial that ends without one");
  }

  /** The custom data fields' expressions: the open blocks' (outermost first), then the
   * stimulus's; a later field of the same name replaces an earlier one in its place. */
  function customFields(run, stim) {
    const out = {};
    for (const f of run.st.stack.slice(1)) {
      for (const field of blockAt(f.path).data || []) out[field.name] = field.value;
    }
    for (const field of stim.data || []) out[field.name] = field.value;
    return out;
  }

  /** The condition columns the row records: each open block's `columns` from its current
   * row, innermost block first (the first of a name wins); a missing field is null. */
  function conditions(run) {
    const out = {};
    const stack = run.st.stack;
    for (let i = stack.length - 1; i >= 1; i -= 1) {
      const f = stack[i];
      const row = f.rows && f.row < f.rows.length ? f.rows[f.row] : null;
      for (const name of blockAt(f.path).columns || []) {
        if (!hasOwn(out, name)) out[name] = row !== null && hasOwn(row, name) ? row[name] : null;
      }
    }
    return out;
  }

  /** An html parameter's value and the markup it shows. Markup is what the author wrote
   * in it literally: a string literal, a template's text, the literal branches of `if`.
   * Every value computed at run time (a column, a response, a number) is text, escaped,
   * whatever the parameter's type: the rule of sbl/markup.py, which the text backend reads.
   * Each part is evaluated once, in the order evaluate() would, so the random stream and
   * the recorded value (the plain evaluation) are unchanged. */
  function markupOf(run, node, scope) {
    if (node.node === "Literal" && typeof node.value === "string") {
      return { value: node.value, markup: node.value };
    }
    if (node.node === "Template") return templateOf(run, node, scope, false);
    if (node.node === "Cond") {
      const test = X.truthy(evaluate(run, node.test, scope));
      return markupOf(run, test ? node.then : node.otherwise, scope);
    }
    if (isImage(node)) return imageOf(run, node, scope);
    if (isMarked(node) && node.args[0].node === "Template") {
      return templateOf(run, node.args[0], scope, true);
    }
    const value = evaluate(run, node, scope);
    if (isMarked(node)) return { value, markup: X.show(value) };
    return { value, markup: value === null ? "" : esc(value) };
  }

  /** image(path, text): the text as value (as text runs), the page's copy of the file. */
  function imageOf(run, node, scope) {
    const args = node.args.map((a) => ({ node: "Literal", value: evaluate(run, a, scope) }));
    const value = evaluate(run, { ...node, args }, scope); // checks them, evaluated once
    const src = esc(media(args[0].value));
    return { value, markup: `<img class="sbl-image" src="${src}" alt="${esc(value)}">` };
  }

  /** A template: image() holes as images, others escaped unless marked. */
  function templateOf(run, node, scope, marked) {
    let value = "";
    let markup = "";
    for (const part of node.parts) {
      const m = typeof part === "string" ? { value: part, markup: part }
        : isImage(part) ? imageOf(run, part, scope) : null;
      const text = m ? m.value : X.show(evaluate(run, part, scope));
      value += text;
      markup += m ? m.markup : marked || isMarked(part) ? text : esc(text);
    }
    return { value, markup };
  }

  function isImage(node) {
    return node.node === "Call" && node.func === "image";
  }

  /** Whether `node` is `markup(...)`: a value the author marked as markup. */
  function isMarked(node) {
    return node.node === "Call" && node.func === "markup";
  }

  /** Record the finished trial `t`, run its side effects and queue what comes next. */
  function finish(run, t, data) {
    const st = run.st;
    const mapping = KINDS[t.stim.kind];
    const read = mapping.response || RESPONSES[t.kind.answer.type];
    let response = read(data, t);
    if (response === undefined) response = null;
    const rt = response === null || data.rt === undefined ? null : data.rt;
    // jsPsych's simulation can keep a button index while dropping a late rt: no rt, no answer.
    if (rt === null && t.kind.answer.type !== "survey") response = null;
    const fields = {};
    const fieldScope = Object.assign({}, t.p, { response });
    for (const d of t.kind.data) fields[d.name] = evaluate(run, d.expr, fieldScope, false);
    // Custom data fields, in order, each seeing response, rt and the data fields before it,
    // then the parameters, then the names the parameters see.
    const own = Object.assign({ response, rt }, fields);
    const custom = {};
    for (const [name, expr] of Object.entries(t.fields)) {
      custom[name] = own[name] = evaluate(run, expr, Object.assign(names(run), t.p, own), false);
    }
    // Side effects run in order, each seeing the shared values the ones before it set, and
    // what a custom data field sees: the trial's own names (response, rt, data fields), its
    // parameters and the rows' columns still hide a shared variable of the same name, as in
    // the text runtime and the checker.
    statements(run, t.stim.after, Object.assign({}, t.p, own));
    // Core columns, data fields, parameters, custom data fields, condition columns, shared
    // variables: on a clash the first wins (the checker rejects clashes that lose a value).
    const row = {
      participant: st.participant, seed: st.seed, source: run.source, block: t.block,
      pass: t.passes.pass, pass_path: t.passes.pass_path, trial_index: t.index,
      trial: t.stim.id, kind: t.stim.kind, response, rt,
    };
    if (st.group !== null && st.group !== undefined) row.group = st.group;
    for (const part of [fields, t.p, custom, t.conditions, st.shared]) {
      for (const [name, value] of Object.entries(part)) if (!hasOwn(row, name)) row[name] = value;
    }
    st.rows.push(X.row(row));
    // Flat into jsPsych's own row; jsPsych's trial_index counts every jsPsych trial.
    const flat = Object.assign({}, row);
    delete flat.trial_index;
    Object.assign(data, flat, { sbl_trial_index: t.index, sbl_storage: run.store.state });
    mediaPaths(data);
    // The gap (jsPsych's post_trial_gap) follows the last screen of the trial.
    const extras = mapping.follow ? mapping.follow(t, row) : [];
    const gap = t.p.gap === undefined ? null : t.p.gap;
    if (extras.length) extras[extras.length - 1].post_trial_gap = gap;
    t.gap = extras.length ? null : gap;
    for (const extra of extras) run.timeline.push(extra);
    const f = st.stack[st.stack.length - 1];
    f.item += 1;
    if (seek(run)) queue(run);
  }

  /** Run the statements of an `after` in order: an assignment sets a shared variable, an
   * `if` runs one arm. `trial` holds the trial's names, which hide the others. */
  function statements(run, body, trial) {
    const st = run.st;
    for (const s of body) {
      if (s.node === "Branch") {
        const test = X.truthy(evaluate(run, s.test, Object.assign(names(run), trial)));
        statements(run, test ? s.then : s.otherwise, trial);
        continue;
      }
      if (!hasOwn(st.shared, s.target)) throw new Error(`'${s.target}' is not shared`);
      st.shared[s.target] = evaluate(run, s.value, Object.assign(names(run), trial));
    }
  }

  /** Queue the stimulus under the cursor, after a "click to start" screen when its kind plays
   * sound or video (`gesture` in its declaration) and the participant has not yet clicked or
   * pressed a key on the page: browsers refuse to play sound before a user gesture, and a
   * trial that waits for the sound's end would wait forever. Decided when the screen is
   * reached (a click on the screen before counts). Simulations, which play no sound, skip it;
   * it records no row, and a text participant reads nothing of it. */
  function queue(run) {
    const stim = current(run);
    if (!run.mode && PAGE.kinds[stim.kind].gesture) {
      run.timeline.push({
        timeline: [{
          type: plugin(PAGE.page.gesture_plugin),
          stimulus: '<div class="sbl-text" id="sbl-gesture">Please turn your sound on, then ' +
            "click Start.</div>",
          choices: ["Start"],
          button_html: button,
          record_data: false,
        }],
        conditional_function: () => !gestured(run),
      });
    }
    run.timeline.push(trialFor(run));
  }

  /** Whether the participant has clicked or pressed a key on this page: the browser's own
   * record of it where there is one (it is what the autoplay policy reads). */
  function gestured(run) {
    const activation = navigator.userActivation;
    return activation ? activation.hasBeenActive : run.gestured;
  }

  /** The jsPsych description of the stimulus under the cursor. Every plugin parameter is a
   * dynamic parameter reading one memoised evaluation, made when jsPsych first asks. */
  function trialFor(run) {
    const stim = current(run);
    const cls = plugin(PAGE.kinds[stim.kind].plugin);
    const types = window.jsPsychModule.ParameterType;
    let t = null;
    const spec = () => {
      if (t === null) t = guarded(run, () => begin(run, stim)) || { params: placeholders(cls) };
      return t.params;
    };
    const desc = { type: cls };
    for (const [name, info] of Object.entries(cls.info.parameters)) {
      if (info.type === types.FUNCTION) {
        desc[name] = (...args) => (spec()[name] || info.default)(...args);
      } else {
        desc[name] = () => spec()[name];
      }
    }
    desc.on_finish = (data) => guarded(run, () => finish(run, t, data));
    desc.post_trial_gap = () => (t && t.gap !== undefined ? t.gap : null); // set by finish
    desc.on_start = () => applyStyle(run, t && t.p ? t.p.style : null); // after parameters
    const sim = simulationOptions(run.st.rows.length, stim);
    if (sim) desc.simulation_options = sim;
    return desc;
  }

  /** The page's look during a trial: the experiment's style, overridden field by field by
   * the trial's. A colour CSS rejects, or a size that is not a positive number, keeps the
   * page's default, as the text kind's `color` does. */
  function applyStyle(run, trialStyle) {
    const record = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : {});
    const base = record(run.settings.style), own = record(trialStyle);
    const pick = (name) => (own[name] === undefined || own[name] === null ? base[name] : own[name]);
    const colourOf = (v) => (typeof v === "string" && CSS.supports("color", v) ? v : "");
    const px = (v) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? `${v}px` : "");
    const display = run.jsPsych.getDisplayElement();
    document.body.style.backgroundColor = colourOf(pick("background"));
    display.style.backgroundColor = colourOf(pick("background"));
    display.style.color = colourOf(pick("color"));
    display.style.fontSize = px(pick("font_size"));
    display.style.setProperty("--sbl-width", px(pick("width")));
  }

  /** Values that let a plugin start when evaluation failed (the run is being stopped). */
  function placeholders(cls) {
    const types = window.jsPsychModule.ParameterType;
    const out = {};
    for (const [name, info] of Object.entries(cls.info.parameters)) {
      if (info.default !== undefined) continue;
      out[name] = info.array ? (info.type === types.COMPLEX ? [] : [""]) : "";
    }
    return out;
  }

  function guarded(run, fn) {
    if (run.failed) return null;
    try {
      return fn();
    } catch (err) {
      fail(run, err);
      return null;
    }
  }

  /** Stop the run after an evaluation error: the data so far are still saved at the end. */
  function fail(run, err) {
    const message = describe(err);
    run.failed = message;
    console.error(`sbl: the experiment stopped: ${message}`);
    // Deferred: jsPsych may be in the middle of preparing or finishing a trial.
    const html = `<div class="sbl-message sbl-error">${esc(stoppedText(message))}</div>`;
    setTimeout(() => run.jsPsych.abortExperiment(html), 0);
  }

  /** An error as a person reads it: where in the .sbl file, then what went wrong. */
  function describe(err) {
    const where = err && err.span ? `${err.span[0]}:${err.span[1]}:${err.span[2]}: ` : "";
    return where + (err && err.message ? err.message : String(err));
  }

  function stoppedText(message) {
    return `The experiment stopped because of an error: ${message}`;
  }

  // ------------------------------------------------------------ simulation hooks

  /** Per-trial simulation_options: window.sblSimulationOptions (a list indexed by sbl trial,
   * or a function of the index and the stimulus), else the URL's `simulation_options` JSON. */
  function simulationOptions(index, stim) {
    const hook = window.sblSimulationOptions;
    if (typeof hook === "function") return hook(index, stim.id) || null;
    if (Array.isArray(hook)) return hook[index] || null;
    const raw = new URLSearchParams(location.search).get("simulation_options");
    if (!raw) return null;
    try {
      const list = JSON.parse(raw);
      return Array.isArray(list) ? list[index] || null : null;
    } catch (err) {
      console.warn(`sbl: simulation_options is not a JSON list: ${err}`);
      return null;
    }
  }

  // ------------------------------------------------------------ storage (store.js)

  /** Store the run: what resuming needs while it runs, only its data once it ended. When it
   * cannot be stored, the participant is told once and each row says so (sbl_storage). */
  function persist(run) {
    const st = run.st;
    st.prng = run.rng.state;
    const value = st.ended ? Object.assign({}, st, { stack: [], rows: [] }) : st;
    if (!run.store.write(run.key, value)) storageNotice(run);
  }

  function storageNotice(run) {
    if (run.storageNoticed) return;
    run.storageNoticed = true;
    notice("sbl-storage-notice", "This browser cannot save your progress, so please finish " +
      "in this tab without closing or reloading it.");
  }

  /** A short notice at the foot of the page, over whatever jsPsych shows. */
  function notice(id, text) {
    let box = document.getElementById(id);
    if (!box) {
      box = document.createElement("div");
      box.id = id;
      box.className = "sbl-notice";
      box.setAttribute("role", "status");
      document.body.append(box);
    }
    box.textContent = text;
    return box;
  }

  /** A row jsPsych recorded: kept with the run, marked with whether it could be stored. */
  function recorded(run, row) {
    const copy = JSON.parse(JSON.stringify(row));
    run.st.data.push(copy);
    persist(run);
    if (copy.sbl_storage !== undefined && copy.sbl_storage !== run.store.state) {
      copy.sbl_storage = run.store.state; // this very row is the one that did not fit
      const rows = run.jsPsych.data.get().values();
      if (rows.length) rows[rows.length - 1].sbl_storage = run.store.state;
    }
  }

  /** The stored runs of `participant` on this page: this version's, else a finished one of
   * another version (a finished participant is not started over by an edit). */
  function findRun(store, participant) {
    const mine = store.runs().filter((r) => r.participant === participant &&
      r.st.version === STORE_VERSION);
    return mine.find((r) => r.version === PAGE.page.key) || mine.find((r) => r.st.ended) || null;
  }

  /** Deliver the rows of unfinished runs of `participant` under other versions of this page
   * (each row carries sbl_version, the version it came from) and tell the participant. */
  async function deliverOldVersions(run, participant) {
    const old = run.store.runs().filter((r) => r.participant === participant &&
      r.version !== PAGE.page.key && !r.st.ended && r.st.data);
    if (!old.length) return;
    const box = notice("sbl-version-notice", "This study was updated since your last visit, " +
      "so it starts again from the beginning. Your earlier answers are kept.");
    const sinks = sinksOf(run);
    for (const r of old) {
      const data = collection(r.st.data.map((row) =>
        Object.assign({ sbl_version: r.version }, row)));
      const files = `${PAGE.page.name}-${r.version}`;
      const sent = await sendOrSave(data, files, sinks, () => {});
      if (sent || !sinks.length) run.store.remove(r.key);
      box.textContent = "This study was updated since your last visit, so it starts again " +
        "from the beginning. " + (sent ? "Your earlier answers have been sent." :
          `Your earlier answers were saved to your downloads as ${files}.json.`);
    }
  }

  /** A jsPsych data collection holding `rows`, for saving or sending rows of another run. */
  function collection(rows) {
    const data = initJsPsych().data.get();
    for (const row of rows) data.push(row);
    return data;
  }

  // ------------------------------------------------------------ participant and seed

  function randomUint32() {
    return crypto.getRandomValues(new Uint32Array(1))[0];
  }

  function urlSeed(params) {
    const raw = params.get("seed");
    if (raw === null || raw === "") return null;
    if (!/^\s*\d+\s*$/.test(raw)) throw new Error(`the seed must be a whole number; got ${raw}`);
    return Number(BigInt(raw.trim()) % 4294967296n);
  }

  /** The participant id: the URL's, else this browser's anonymous id while its run is
   * unfinished or still to be sent, else a new random one. */
  function participantId(params, store) {
    const given = params.get("participant") || params.get("PROLIFIC_PID");
    if (given) return given;
    const pointer = SblStore.anonymousKey(PAGE.page, store.mode);
    const previous = store.read(pointer);
    if (typeof previous === "string") {
      const found = findRun(store, previous);
      const settled = found && found.st.ended &&
        (found.st.delivered === "sent" || found.st.delivered === "downloaded");
      if (found && !settled) return previous;
    }
    const id = "anon-" + randomUint32().toString(16).padStart(8, "0") +
      randomUint32().toString(16).padStart(8, "0");
    store.write(pointer, id);
    return id;
  }

  // ------------------------------------------------------------ starting a run

  function freshState(run, participant, seed, key) {
    const st = {
      version: STORE_VERSION, participant, seed, prng: 0, globals: {}, shared: {},
      stack: [{ path: [], rep: 0, pass: 0, start: 0, rows: [null], row: 0, item: 0 }],
      rows: [], data: [], done: false, ended: false, delivered: null, group: null,
    };
    run.st = st;
    run.rng = new X.Prng(seed);
    for (const decl of PAGE.experiment.decls) {
      const scope = Object.assign({}, st.globals, st.shared);
      if (decl.node === "Shared") st.shared[decl.name] = evaluate(run, decl.init, scope);
      else if (decl.node === "Let") st.globals[decl.name] = evaluate(run, decl.value, scope);
      else if (decl.node === "Group") st.globals[decl.name] = assignGroup(run, decl, scope, key);
      else st.globals[decl.name] = evaluate(run, decl.rows, scope);
    }
    seek(run);
  }

  /** The participant's group, one record of the declaration's list (sbl/groups.py): its
   * number, from `key`, is kept in st.group and recorded in every row. */
  function assignGroup(run, decl, scope, key) {
    const options = evaluate(run, decl.groups, scope);
    if (!Array.isArray(options) || !options.length ||
        !options.every((g) => X.kind(g) === "record")) {
      const err = new Error(`the groups of '${decl.name}' must be a non-empty list of records`);
      err.span = decl.groups.span;
      throw err;
    }
    run.st.group = X.groupNumber(key, options.length);
    return options[run.st.group - 1];
  }

  /** The key a new participant's group comes from, by the declared source: the participant
   * id, a URL parameter, or the count of participants so far in the JATOS batch session
   * (outside JATOS, the participant id); null without groups. */
  async function groupKey(params, participant) {
    const decl = PAGE.experiment.decls.find((d) => d.node === "Group");
    if (!decl) return null;
    if (decl.source === "url") {
      const value = params.get(decl.param);
      if (value === null || value === "") {
        throw new Error(`the link has no '${decl.param}' parameter, which gives this ` +
          `experiment's group (e.g. ?${decl.param}=1)`);
      }
      return value;
    }
    if (decl.source === "jatos" && window.jatos && window.jatos.batchSession) {
      return jatosCount(window.jatos);
    }
    if (decl.source === "jatos") console.warn("sbl: not under JATOS; the group comes from " +
      "the participant id");
    return participant;
  }

  const JATOS_COUNTER = "sbl_participants";

  /** Count this participant in the JATOS batch session: read the count, store it plus one.
   * JATOS's library sends the session's version with each change, and the server refuses a
   * change made to an older version (another participant counted first; the library then
   * holds the new count), so a refused change is tried again. The key is this participant's
   * number. */
  async function jatosCount(jatos) {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const count = Number(jatos.batchSession.get(JATOS_COUNTER)) || 0;
      try {
        await jatos.batchSession.set(JATOS_COUNTER, count + 1);
        return String(count + 1);
      } catch (err) {
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
    throw new Error("this participant could not be counted in the JATOS batch session");
  }

  function restoreState(run, st) {
    run.st = st;
    for (const row of st.rows) X.row(row); // rows read back from storage are rows again
    run.rng = new X.Prng(st.seed);
    run.rng.state = st.prng;
  }

  function setting(run, name) {
    const found = PAGE.experiment.settings.find((p) => p.name === name);
    if (!found) return null;
    return evaluate(run, found.value, Object.assign({}, run.st.globals, run.st.shared));
  }

  function readSettings(run) {
    for (const name of ["fullscreen", "post_url", "redirect", "style"]) {
      run.settings[name] = setting(run, name);
    }
  }

  /** An http(s) URL to send data to or go to, or null: never javascript: or data: URLs. */
  function webUrl(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      const url = new URL(value, location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  /** The URL's simulation mode, when this page lets it play itself: a page that sends its
   * data somewhere (post_url, JATOS, a redirect) does only if compiled with allow_simulate,
   * so a participant cannot finish a live study with random answers. */
  function simulationMode(params) {
    const mode = params.get("simulate");
    if (mode !== "data-only" && mode !== "visual") return null;
    if (PAGE.page.simulate) return mode;
    console.warn("sbl: this page collects data; simulate is ignored " +
      "(compile with --allow-simulate)");
    return null;
  }

  async function start() {
    PAGE = JSON.parse(document.getElementById("sbl-ir").textContent);
    const params = new URLSearchParams(location.search);
    const mode = simulationMode(params);
    const store = new window.SblStore.Store(PAGE.page, mode || "live");
    const run = {
      store, mode, source: mode ? "browser-simulated" : "browser", key: null,
      timeline: [], failed: null, st: null, rng: null, settings: {},
    };
    run.prev = (back) => {
      const rows = run.st.rows;
      return back >= 1 && back <= rows.length ? rows[rows.length - back] : null;
    };
    run.jsPsych = initJsPsych({
      on_trial_start: () => { run.pressBegan = false; },
      on_data_update: (row) => recorded(run, row),
      on_finish: () => end(run),
    });
    window.sblRun = run; // for tests and debugging: the live state
    let participant;
    let found;
    try {
      X.checkDepth(PAGE.experiment); // hand-made IR too: a clear error, not a stack overflow
      participant = participantId(params, store);
      found = findRun(store, participant);
      run.key = found ? found.key : SblStore.runKey(PAGE.page, store.mode, participant);
      if (found && found.st.ended) return reopen(run, found.st);
      if (found) restoreState(run, found.st);
      else {
        const seed = urlSeed(params) ?? randomUint32();
        freshState(run, participant, seed, await groupKey(params, participant));
      }
      readSettings(run);
    } catch (err) {
      return showError(err);
    }
    if (store.state !== "ok") storageNotice(run);
    if (!found) store.shrinkDownloaded(run.key);
    deliverOldVersions(run, participant);
    run.jsPsych.data.addProperties({
      participant: run.st.participant, seed: run.st.seed, sbl_version: PAGE.page.key,
    });
    for (const row of run.st.data) run.jsPsych.data.get().push(row);
    persist(run);
    guardClicks(run);
    const preload = run.st.done ? null : preloadTrial(run);
    if (preload) run.timeline.push(preload);
    if (X.truthy(run.settings.fullscreen)) {
      run.timeline.push({ type: plugin("fullscreen"), fullscreen_mode: true });
    }
    if (!run.st.done) queue(run);
    if (mode) {
      run.jsPsych.randomization.setSeed(String(run.st.seed));
      run.jsPsych.simulate(run.timeline, mode);
    } else {
      run.jsPsych.run(run.timeline);
    }
  }

  /** Ignore a click whose gesture began before the trial it lands on was shown: the second
   * click of a double click (mousedown's detail > 1 continues the sequence the first click
   * began), or a press held over from the screen before. The participant clicks again; there
   * is no minimum rt. Keys need nothing here: jsPsych ignores a key held down since before
   * the trial (allow_held_key is false), so it must be released and pressed again. It also
   * notes the participant's first key press or click, for browsers that keep no record of
   * it themselves (gestured). */
  function guardClicks(run) {
    run.pressBegan = false;
    run.gestured = false; // for browsers without navigator.userActivation: see gestured()
    window.addEventListener("keydown", (e) => { run.gestured = run.gestured || e.isTrusted; }, true);
    window.addEventListener("mousedown", (e) => {
      run.gestured = run.gestured || e.isTrusted;
      if (e.detail <= 1) run.pressBegan = true;
    }, true);
    window.addEventListener("click", (e) => {
      if (e.detail === 0 || run.pressBegan) return; // detail 0: a key activated the button
      e.stopImmediatePropagation();
      e.preventDefault();
    }, true);
  }

  // ------------------------------------------------------------ the end

  async function end(run) {
    if (document.fullscreenElement && document.exitFullscreen) {
      document.exitFullscreen().catch(() => {});
    }
    run.st.ended = true;
    persist(run);
    const display = run.jsPsych.getDisplayElement();
    const cls = run.failed ? "sbl-message sbl-error" : "sbl-message";
    display.innerHTML = `<div class="${cls}" id="sbl-end"></div>`;
    const lead = run.failed ? stoppedText(run.failed) : "Thank you! The experiment is complete.";
    await deliver(run, run.jsPsych.data.get(), display.querySelector("#sbl-end"), lead);
    document.documentElement.dataset.sblState = run.st.done ? "done" : "stopped";
  }

  /** Where the page sends its data (JATOS, the post_url): none means downloads. */
  function sinksOf(run) {
    return SblStore.sinks(webUrl(run.settings.post_url));
  }

  /** Send `data` to `sinks` (with retries), else save it to the downloads as
   * `files`.json and .csv; resolves whether it was sent. */
  async function sendOrSave(data, files, sinks, progress) {
    const sent = sinks.length > 0 && await SblStore.sendAll(sinks, data.json(), progress);
    if (!sent) {
      data.localSave("json", `${files}.json`);
      data.localSave("csv", `${files}.csv`);
    }
    return sent;
  }

  /** Deliver the run's data, saying in `box` (after `lead`) what happens and where they
   * went; follow the redirect only once they were sent, or once the participant has read
   * where they went and chooses to continue. */
  async function deliver(run, data, box, lead) {
    const say = (text) => { box.textContent = `${lead}\n${text}`; };
    const name = PAGE.page.name;
    const sinks = sinksOf(run);
    if (sinks.length) say("Sending your answers… please keep this page open.");
    const sent = await sendOrSave(data, name, sinks, (n, of) => say(
      `Sending your answers did not work yet; trying again (${n} of ${of})… ` +
      "please keep this page open."));
    run.st.delivered = sent ? "sent" : sinks.length ? "unsent" : "downloaded";
    if (sent) run.store.write(run.key, SblStore.marker(run.st));
    else persist(run);
    if (sent) say("Your answers have been sent.");
    else if (sinks.length) {
      say(`Your answers could not be sent, so they were saved to your downloads as ` +
        `${name}.json and ${name}.csv. Please send these files to the researcher. ` +
        "Opening this page again will try to send them again.");
    } else say(`The data were saved as ${name}.json and ${name}.csv.`);
    const redirect = run.failed ? null : webUrl(run.settings.redirect);
    if (redirect && sent) window.location.assign(redirect);
    else if (redirect) box.after(continueButton(redirect));
  }

  function continueButton(url) {
    const button = document.createElement("button");
    button.className = "jspsych-btn";
    button.id = "sbl-continue";
    button.textContent = "Continue";
    button.addEventListener("click", () => window.location.assign(url));
    return button;
  }

  /** A reopened page of a run that ended: send its data again if they were not delivered,
   * else say it is complete and offer the data again while they are kept. */
  function reopen(run, st) {
    run.st = st;
    const box = document.createElement("div");
    box.className = "sbl-message";
    box.id = "sbl-end";
    const lead = "This session is complete. Thank you!";
    box.textContent = lead;
    document.body.append(box);
    const state = () => { document.documentElement.dataset.sblState = "done"; };
    // Unsent, or never settled (the tab was closed while the data were being sent).
    if (st.data && (st.delivered === "unsent" || !st.delivered)) {
      readSettings(run); // a marker has no globals, but a run still to be sent keeps them
      deliver(run, collection(st.data), box, lead).then(state);
      return;
    }
    if (st.data) {
      const button = document.createElement("button");
      button.className = "jspsych-btn";
      button.textContent = "Download the data again";
      button.addEventListener("click", () => {
        const data = collection(st.data);
        data.localSave("json", `${PAGE.page.name}.json`);
        data.localSave("csv", `${PAGE.page.name}.csv`);
      });
      box.after(button);
    }
    state();
  }

  function showError(err) {
    const message = describe(err);
    console.error(`sbl: the experiment cannot start: ${message}`);
    const box = document.createElement("div");
    box.className = "sbl-message sbl-error";
    box.textContent = `The experiment cannot start: ${message}`;
    document.body.append(box);
  }

  /** Start once the page is parsed, and under JATOS once its API is ready. */
  function boot() {
    if (window.jatos && typeof window.jatos.onLoad === "function") window.jatos.onLoad(start);
    else start();
  }

  window.SblRuntime = { KINDS, esc, media, start };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", boot);
  } else {
    boot();
  }
})();
