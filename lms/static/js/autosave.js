/* Answers that are never lost: autosave while typing, save on leaving, a copy on this device.

   Each form with data-autosave holds one answer: a textarea and a hidden input
   "...-revision" with the revision its text is based on. While the learner types,
   the text is kept in localStorage and sent a few seconds after the last change,
   one request at a time, with the CSRF token in an X-CSRFToken header. The server
   answers with the new revision, or 409 when another tab or device saved a newer
   one: the form is then sent the ordinary way and the server's conflict page shows
   both texts. Unsaved text goes out with fetch keepalive (or sendBeacon) when the
   page is hidden or left. The copy on this device is dropped once the server has it.
   When the server cannot be reached or answers with an error, the status line (a live
   region) says the text is not saved and is kept here; it is sent again after the
   server's Retry-After (a database busy for a moment) or after ten seconds.
   Without this script the same form works with its Save button.
*/
(function () {
  "use strict";

  var DELAY_MS = 3000; // after the last keystroke
  var MAX_WAIT_MS = 15000; // while typing on and on, save at least this often
  var RETRY_MS = 10000; // after a failure (sooner when the server says when, in Retry-After)
  var SLOW_MS = 1000; // say "Saving…" only when it takes this long
  var KEEPALIVE_MAX_CHARS = 60000; // browsers cap keepalive bodies at 64 KB
  var KEEPALIVE = typeof window.Request === "function" && "keepalive" in window.Request.prototype;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function load(key) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null;
    }
  }

  function store(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      /* Private mode or a full disk: the server's copy is all there is. */
    }
  }

  function forget(key) {
    try {
      window.localStorage.removeItem(key);
    } catch (error) {
      /* nothing to forget */
    }
  }

  function contains(haystack, needle) {
    var trimmed = needle.trim();
    return trimmed === "" || haystack.indexOf(trimmed) !== -1;
  }

  function Answer(form) {
    this.form = form;
    this.textarea = form.querySelector("textarea");
    this.revision = form.querySelector('input[name$="-revision"]');
    this.status = form.querySelector("[data-save-status]");
    this.key = "lms-answer:" + form.getAttribute("data-key");
    this.saved = this.textarea.value; // the text the server has
    this.inflight = null; // the text being sent
    this.timer = null;
    this.since = 0; // when the oldest unsaved change was typed
    this.stopped = false; // a conflict, or the form itself is being sent
    this.again = false; // hidden during a save: save again once it is done
    this.pendingSend = false; // the learner pressed Save or Submit during a save
    this.pendingSubmitter = null;
  }

  Answer.prototype.say = function (text) {
    if (this.status.textContent !== text) {
      this.status.textContent = text;
    }
  };

  Answer.prototype.message = function (name) {
    return this.form.getAttribute("data-msg-" + name) || "";
  };

  Answer.prototype.keep = function (extra) {
    var copy = { body: this.textarea.value, base: Number(this.revision.value), at: Date.now() };
    if (extra) {
      for (var name in extra) {
        copy[name] = extra[name];
      }
    }
    store(this.key, copy);
  };

  Answer.prototype.payload = function (body, base) {
    var data = new URLSearchParams(new FormData(this.form));
    data.set(this.textarea.name, body);
    data.set(this.revision.name, String(base));
    return data;
  };

  Answer.prototype.schedule = function (delay) {
    var self = this;
    if (this.stopped) {
      return;
    }
    var wait = delay === undefined ? DELAY_MS : delay;
    if (this.since && delay === undefined) {
      wait = Math.max(0, Math.min(wait, this.since + MAX_WAIT_MS - Date.now()));
    }
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () {
      self.timer = null;
      self.save();
    }, wait);
  };

  Answer.prototype.send = function (body, base, keepalive) {
    return window.fetch(this.form.action, {
      method: "POST",
      credentials: "same-origin",
      keepalive: keepalive,
      headers: {
        Accept: "application/json",
        "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
        "X-CSRFToken": csrfToken(),
      },
      body: this.payload(body, base),
    });
  };

  // mode: undefined while typing, "hidden" when the page is hidden (it may come back),
  // "gone" when it is being left (nothing will read the answer).
  Answer.prototype.save = function (mode) {
    var self = this;
    var body = this.textarea.value;
    if (this.stopped || body === this.saved) {
      return;
    }
    var keepalive = mode !== undefined && KEEPALIVE && body.length <= KEEPALIVE_MAX_CHARS;
    if (this.inflight !== null) {
      if (mode === "gone") {
        // No answer will come back: send and forget, based on the revision the save in
        // flight makes (if that one fails, this is refused and the text stays here).
        this.beacon(body, Number(this.revision.value) + 1);
      } else {
        this.again = true;
      }
      return;
    }
    if (mode === "gone" && !keepalive) {
      this.beacon(body, Number(this.revision.value));
      return;
    }
    this.inflight = body;
    var slow = window.setTimeout(function () {
      self.say(self.message("saving"));
    }, SLOW_MS);
    this.send(body, Number(this.revision.value), keepalive)
      .then(function (response) {
        var retry = Number(response.headers.get("Retry-After"));
        return response.json().then(
          function (data) {
            return { status: response.status, data: data, retry: retry };
          },
          function () {
            return { status: response.status, data: null, retry: retry };
          }
        );
      })
      .then(
        function (result) {
          self.answered(body, result.status, result.data, result.retry);
        },
        function () {
          self.say(self.message("offline"));
          self.schedule(RETRY_MS);
        }
      )
      .then(function () {
        window.clearTimeout(slow);
        self.inflight = null;
        if (self.pendingSend) {
          self.sendForm(self.pendingSubmitter);
        } else if (self.again) {
          self.again = false;
          self.save("hidden");
        }
      });
  };

  // A save whose answer nobody reads: fetch keepalive, else a beacon (older browsers
  // have no keepalive; a beacon carries the form's own CSRF field instead of a header).
  Answer.prototype.beacon = function (body, base) {
    if (KEEPALIVE && body.length <= KEEPALIVE_MAX_CHARS) {
      this.send(body, base, true).catch(function () {});
    } else if (navigator.sendBeacon) {
      navigator.sendBeacon(this.form.action, this.payload(body, base));
    }
  };

  // retry: the server's Retry-After in seconds (a database busy for a moment), if any.
  Answer.prototype.answered = function (body, status, data, retry) {
    if (status === 200 && data && typeof data.revision === "number") {
      this.revision.value = String(data.revision);
      this.saved = body;
      this.say(data.message);
      if (this.textarea.value === body) {
        this.since = 0;
        forget(this.key);
      } else {
        this.schedule();
      }
    } else if (status === 409 && data && data.conflict) {
      // Another tab or device saved a newer text. Keep ours here, and let the
      // server's conflict page show both texts side by side.
      this.stopped = true;
      window.clearTimeout(this.timer);
      this.keep({ conflict: true });
      this.say(data.message);
      this.form.submit();
    } else if (status >= 500) {
      // The text stays on this device (kept while typing) and is sent again.
      this.say(this.message("busy") || (data && data.error) || this.message("offline"));
      this.schedule(retry > 0 ? Math.min(retry * 1000, RETRY_MS) : RETRY_MS);
    } else {
      this.say((data && data.error) || this.message("failed"));
    }
  };

  Answer.prototype.sendForm = function (submitter) {
    this.pendingSend = false;
    this.pendingSubmitter = null;
    this.stopped = true;
    window.clearTimeout(this.timer);
    if (typeof this.form.requestSubmit === "function") {
      this.form.requestSubmit(submitter);
      return;
    }
    if (submitter && submitter.name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = submitter.name;
      input.value = submitter.value;
      this.form.appendChild(input);
    }
    this.form.submit();
  };

  Answer.prototype.restore = function () {
    var copy = load(this.key);
    if (!copy || typeof copy.body !== "string") {
      return;
    }
    var server = this.textarea.value;
    if (copy.body === server || (server.trim() !== "" && contains(server, copy.body))) {
      forget(this.key);
    } else if (copy.base === Number(this.revision.value) && !copy.conflict) {
      // Typed here, never received, and nothing newer since: put it back and save it.
      this.textarea.value = copy.body;
      this.say(this.message("restored"));
      this.since = Date.now();
      this.schedule(0);
    } else {
      this.showDeviceCopy(copy.body);
    }
  };

  Answer.prototype.showDeviceCopy = function (body) {
    var self = this;
    var box = this.form.querySelector("[data-device-copy]");
    if (!box) {
      return;
    }
    box.querySelector("textarea").value = body;
    box.hidden = false;
    box.querySelector("[data-device-copy-discard]").addEventListener("click", function () {
      forget(self.key);
      box.hidden = true;
      self.textarea.focus();
    });
  };

  Answer.prototype.start = function () {
    var self = this;
    this.restore();
    this.textarea.addEventListener("input", function () {
      if (!self.since) {
        self.since = Date.now();
      }
      self.keep();
      self.schedule();
    });
    this.form.addEventListener("submit", function (event) {
      if (self.inflight !== null) {
        // Wait for the save in flight, so the form is based on the revision it makes.
        event.preventDefault();
        self.pendingSend = true;
        self.pendingSubmitter = event.submitter || null;
        return;
      }
      self.stopped = true; // the form carries the text now
      window.clearTimeout(self.timer);
    });
  };

  var answers = [];
  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    if (form.querySelector("textarea") && form.querySelector('input[name$="-revision"]')) {
      var answer = new Answer(form);
      answers.push(answer);
      answer.start();
    }
  });

  function saveAll(mode) {
    answers.forEach(function (answer) {
      answer.save(mode);
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      saveAll("hidden");
    }
  });
  window.addEventListener("pagehide", function () {
    saveAll("gone");
  });
  window.addEventListener("online", function () {
    saveAll();
  });
})();
